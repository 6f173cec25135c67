"""Turn a follow-up question into a standalone query using the conversation so far."""

from __future__ import annotations

import re

from .sessions import Turn
from .text import content_tokens

CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|what if|but|so|then|ok(ay)?|plus)\b", re.I)
ANAPHORA = re.compile(
    r"\b(it|its|it's|that|this|they|them|their|those|these|there|the program|this program|that program|"
    r"the degree|this degree|the same|the school|the university|he|she|his|her)\b",
    re.I,
)
LEADING_ASK = re.compile(
    r"^\s*(tell me (more )?about|what (is|are|was|were)|who (is|are)|how (much|many|long|does|do|is|are|can)|"
    r"can you (tell me|explain)|i('d| would) like to know( about)?|explain|describe|give me|show me|"
    r"what|which|when|where|why|how|is|are|does|do|can|could|should|will|would)\b\s*",
    re.I,
)


def topic_of(query: str) -> str:
    """The subject of a standalone query: the query without its leading question words."""
    topic = LEADING_ASK.sub("", query.strip()).strip(" ?.!")
    topic = re.sub(r"\s+", " ", topic)
    return topic or query.strip(" ?.!")


def is_followup(message: str) -> bool:
    return bool(CONTINUATION.search(message) or ANAPHORA.search(message) or len(content_tokens(message)) <= 3)


def resolve(message: str, history: list[Turn]) -> tuple[str, str, bool]:
    """Return (standalone query, topic to remember, whether the message was a follow-up)."""
    message = " ".join(message.split())
    previous = next((t for t in reversed(history) if t.answered and t.topic), None)
    if previous is None or not is_followup(message):
        return message, topic_of(message), False
    topic = previous.topic
    # Words of the topic already in the message need not be repeated.
    have = set(content_tokens(message))
    extra = [w for w in topic.split() if not set(content_tokens(w)) <= have or not content_tokens(w)]
    if not any(content_tokens(w) for w in extra):
        return message, topic, True
    query = f"{message.rstrip()} ({' '.join(extra)})"
    return query, topic, True
