"""Suggested questions a student would ask, drawn from what the corpus states and checked by answering them.

Candidates come from two places: the documents' own question headings (FAQ pages), and the kinds of facts a
document states (a cost, a deadline, a GRE policy, credits, a duration, a GPA, an English test score, pay),
phrased the way a student asks about them. A candidate is kept only when the engine answers it from the
document it was drawn from, so no suggestion leads to a refusal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest

from indexer.store import LoadedIndex
from indexer.suggestions import question_heading

from .entities import TITLE_SEPARATORS
from .vocabulary import vocabulary

logger = logging.getLogger(__name__)

PROGRAM_TITLE = re.compile(
    r"\b(?:M\.?S\.?|M\.?Eng|MBA|master'?s?|degree|program(?:me)?|graduate|admissions?|catalog)\b", re.I
)
MONTH = r"(?:" + "|".join(dict.fromkeys(m[:3] for m in vocabulary().months)) + r")[a-z]*\.?\s+\d{1,2}"
# (kind, what a chunk must contain, the question; {name} is the program's school, {role} the career's name).
# What a chunk must contain is a sequence of patterns, each found after the start of the one before: every
# pattern is searched once over the text, so the check is linear in the passage's length (a single pattern
# with a lookahead over the rest of the text, "(?=[\s\S]*X)[\s\S]*Y", costs its square).
MONEY_FIGURE = re.compile(r"\$\s?\d")
PROGRAM_FACTS = [
    ("cost", (MONEY_FIGURE,), re.compile(r"\b(?:tuition|cost|fees?)\b", re.I), "How much does {name} cost?"),
    (
        "deadline",
        (re.compile(MONTH),),
        re.compile(r"\bdeadlines?\b", re.I),
        "When is the application deadline at {name}?",
    ),
    ("gre", (), re.compile(r"\bGRE\b"), "Is the GRE required at {name}?"),
    (
        "credits",
        (),
        re.compile(r"\b\d{2}[\s-]{0,3}(?:credits?|credit hours|semester hours|units)\b", re.I),
        "How many credits does {name} require?",
    ),
    (
        "duration",
        (),
        re.compile(r"\b(?:\d+|one|two|three|four)[\s-]{0,3}(?:months?|years?|semesters?)\b", re.I),
        "How long does {name} take to finish?",
        re.compile(r"\b(?:complete|full-time|part-time|finish)\b", re.I),
    ),
    ("gpa", (), re.compile(r"\bGPA\b[\s\S]{0,80}?\d\.\d|\d\.\d[\s\S]{0,80}?\bGPA\b"), "What GPA does {name} require?"),
    (
        "english",
        (),
        re.compile(r"\b(?:TOEFL|IELTS)\b[\s\S]{0,80}?\d"),
        "What TOEFL or IELTS score does {name} require?",
    ),
]
CAREER_FACTS = [
    (
        "pay",
        (MONEY_FIGURE,),
        re.compile(r"\b(?:salary|salaries|median|pay|wages?|earn\w*)\b", re.I),
        "How much does {role} earn?",
    ),
    (
        "outlook",
        (),
        re.compile(
            r"\b(?:job outlook|employment of|projected to grow|growth)\b[\s\S]{0,120}?\d+\s?(?:%|percent)", re.I
        ),
        "What is the job outlook for {role}?",
    ),
]
MAX_CANDIDATES = 48
PERSON = re.compile(r"(?:er|or|ist|ian|ant|ent|yst|ect)$", re.I)  # engineer, director, scientist, analyst, ...


@dataclass(frozen=True)
class Candidate:
    question: str
    doc_id: str
    kind: str


def _subject(title: str) -> tuple[str, str]:
    """(lead, rest) of a title: "Boston University - MS in Robotics" → ("Boston University", "MS in Robotics")."""
    parts = [p.strip() for p in TITLE_SEPARATORS.split(title) if p and p.strip()]
    return (parts[0] if parts else title), (parts[1] if len(parts) > 1 else "")


def _role(rest: str) -> str | None:
    """ "Industrial Engineers" → "an industrial engineer"; what does not name a person's job gives None."""
    words = rest.split()
    if not 1 <= len(words) <= 4:
        return None
    last = words[-1]
    if last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        words[-1] = last = last[:-1]
    if not PERSON.search(last):
        return None  # "Robotics Engineering Career Guide" is a page, not a job
    name = " ".join(w if w.isupper() or "/" in w else w.lower() for w in words)
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def candidates(index: LoadedIndex) -> list[Candidate]:
    """Questions each document could answer, interleaved across documents (FAQ headings first)."""
    per_doc: list[list[Candidate]] = []
    for doc in index.documents:
        doc_id, title = doc["doc_id"], doc.get("title") or ""
        rows = index.doc_rows.get(doc_id, [])
        chunks = [index.chunks[int(r)] for r in rows]
        found: list[Candidate] = []
        for chunk in chunks:
            leaf = question_heading(chunk.section)
            if leaf is not None:
                found.append(Candidate(leaf, doc_id, "faq"))
        lead, rest = _subject(title)
        if PROGRAM_TITLE.search(title):
            name = f"the {lead} program" if len(lead.split()) <= 5 and not re.search(r"\d", lead) else None
            facts = PROGRAM_FACTS if name else []
            values = {"name": name}
        else:
            role = _role(rest.split(":")[0]) if rest else None
            facts = CAREER_FACTS if role else []
            values = {"role": role}
        for kind, anywhere, pattern, template, *later in facts:
            if any(states(c.text, anywhere, pattern, later) for c in chunks):
                found.append(Candidate(template.format(**values), doc_id, kind))
        per_doc.append(list(dict.fromkeys(found)))
    out: list[Candidate] = []
    for row in zip_longest(*per_doc):
        out.extend(c for c in row if c)
    return out[:MAX_CANDIDATES]


def states(text: str, anywhere: tuple[re.Pattern, ...], pattern: re.Pattern, later: list[re.Pattern]) -> bool:
    """The text holds each of ``anywhere``, a match of ``pattern``, and each of ``later`` after that match.

    Each pattern is searched once (linear-time patterns: bounded repeats, no lookahead over the rest)."""
    if not all(p.search(text) for p in anywhere):
        return False
    found = pattern.search(text)
    return found is not None and all(p.search(text, found.end()) for p in later)


def verified(
    index: LoadedIndex,
    answers: Callable[[str], list[str] | None],
    limit: int = 6,
    go_on: Callable[[], bool] = lambda: True,
    pool: list[Candidate] | None = None,
) -> list[str]:
    """Up to ``limit`` candidates the engine answers from their own document, varied in kind and document.

    ``answers(question)`` returns the cited doc_ids of an answer, or None for a refusal; ``go_on()`` is asked
    before each check and ends the run when it says no (shutdown, a newer index version); ``pool`` is
    ``candidates(index)`` when the caller has drawn them already.
    """
    kept: list[str] = []
    kinds: dict[str, int] = {}
    docs: dict[str, int] = {}
    tried: set[Candidate] = set()
    pool = candidates(index) if pool is None else pool
    for per_kind, per_doc in ((1, 1), (2, limit)):  # one per kind and page first; then fill from any page
        for cand in pool:
            if len(kept) >= limit:
                return kept
            if cand in tried or docs.get(cand.doc_id, 0) >= per_doc or kinds.get(cand.kind, 0) >= per_kind:
                continue
            if not go_on():
                return kept
            tried.add(cand)
            cited = answers(cand.question)
            if cited and cited[0] == cand.doc_id:
                kept.append(cand.question)
                docs[cand.doc_id] = docs.get(cand.doc_id, 0) + 1
                kinds[cand.kind] = kinds.get(cand.kind, 0) + 1
            else:
                logger.debug("suggestion dropped (not answered from its page): %s", cand.question)
    return kept
