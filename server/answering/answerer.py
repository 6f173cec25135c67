"""Answering one turn: the analysed question with its slots filled, and the query vectors it reads, in; a
typed result out (the answer with its citations, or a refusal with its reason). Retrieve, compose, decide:
each step called once per question (twice for a two-part one, once per part). No index lifecycle, no storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TypedDict

from indexer.search import Hit

from .compose import Candidate
from .conversation import ConversationState, Resolved, names_subject, resolve, stands_alone, update
from .entities import EntityLinker
from .index_service import IndexState
from .question import Question, content_tokens, focus_words
from .refuse import Refusal
from .retrieve import interleave, retrieve
from .vectors import Vectors

logger = logging.getLogger(__name__)

RETRIEVE_K = 8


class Citation(TypedDict):
    """One numbered source of an answer: the passage, its score, and the quoted spans in its text."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    section: str
    source: str
    page: int | None
    text: str
    score: float
    quotes: list[list[int]]


@dataclass
class ChatResult:
    """A turn's result: the answer with its citations, or a refusal (``answered`` False) with its reason."""

    session_id: str
    answer: str
    answered: bool
    query: str
    citations: list[Citation] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notice: str | None = None
    turn: int = 0  # its number in the session (feedback names it)
    reason: str | None = None  # why it was refused (for logs and the owners' insights)
    asked: list[str] = field(default_factory=list)  # the documents the question was about
    unknown: list[str] = field(default_factory=list)  # names asked about that no document matches


@dataclass
class Prepared:
    """Everything the answer-or-refuse decision read for one question."""

    resolved: Resolved
    groups: list[list[Hit]]
    hits: list[Hit]
    candidates: list[Candidate]
    chosen: list[Candidate]
    refusal: Refusal | None
    decision: dict[str, float]


def answer_turn(
    state: IndexState,
    question: Question,
    resolved: Resolved | None,
    conversation: ConversationState,
    doc_ids: list[str] | None,
    vectors: Vectors,
) -> tuple[ChatResult, ConversationState]:
    """One message answered against a conversation state (``resolved``: its slots filled, None for small
    talk); returns the result and the conversation state after it."""
    if question.small_talk:
        reply = small_talk_reply(question.small_talk, state.covers())
        return ChatResult("", reply, True, question.text, suggestions=state.suggestions()), conversation
    result = answer(state, resolved, doc_ids, vectors)
    moved = False
    if not result.answered and resolved.inherited_entity and stands_alone(question):
        # The entity in focus was a soft default: a question its documents cannot answer is tried on its own.
        alone = Resolved(question, question.text)
        retry = answer(state, alone, doc_ids, vectors)
        others = {c["doc_id"] for c in retry.citations} - set().union(*resolved.question.entities)
        # A bare follow-up ("Is the LSAT required?") answered from other schools' pages is not about the
        # school in focus: it stays refused; pages of no school (a careers article, the BLS) may answer it.
        if retry.answered and (names_subject(question) or not any(map(state.linker.names_school, others))):
            # The topic moves to the pages quoted only when the message names its own subject ("And what do
            # lawyers earn?"); a bare question answered elsewhere leaves the entity in focus as it was.
            resolved, result, moved = alone, retry, bool(question.earners or question.entities)
    after = update(conversation, resolved, result.answered)
    if result.answered and (moved or not after.entities) and result.citations:
        # Nothing named ("What do health services managers earn?"): the pages just quoted are the topic
        # in focus for a follow-up ("And how fast is the field growing?"), unnamed, as a soft default.
        after.entities = [sorted({c["doc_id"] for c in result.citations})]
        after.names = []
    return result, after


def prepare(state: IndexState, resolved: Resolved, doc_ids: list[str] | None, vectors: Vectors) -> Prepared:
    """Everything the answer-or-refuse decision reads: retrieval per entity, scored units, the choice."""
    question = resolved.question
    refusal = state.refuser.before_retrieval(question)
    if refusal is not None:
        return Prepared(resolved, [], [], [], [], refusal, {})
    search, focus = query_texts(resolved)
    vector = vectors(search)
    groups = retrieve(state.retriever, question, search, vector, RETRIEVE_K, doc_ids=doc_ids)
    hits = interleave(groups)
    candidates = state.composer.candidates(question, vector, groups, vectors(focus))
    chosen = state.composer.choose(question, candidates, len(groups))
    refusal, feats = state.refuser.after_composition(question, hits, candidates, chosen)
    return Prepared(resolved, groups, hits, candidates, chosen, refusal, feats)


def answer(state: IndexState, resolved: Resolved, doc_ids: list[str] | None, vectors: Vectors) -> ChatResult:
    """The answer to a resolved question (each part of a two-part one answered on its own), or its refusal."""
    question, query = resolved.question, resolved.query
    parts = _parts(state, question, doc_ids, vectors) if len(question.parts) > 1 else []
    if len(parts) > 1:
        units, more, quoted = [], {}, set()
        for q, prepared in parts:
            got, extra = state.composer.with_context(q, prepared.chosen)
            units += [u for u in got if (u.row, u.unit) not in quoted]
            quoted |= {(u.row, u.unit) for u in got}
            more.update(extra)
    else:
        prepared = prepare(state, resolved, doc_ids, vectors)
        if prepared.refusal is not None:
            return refused(state, query, prepared.refusal, question)
        units, more = state.composer.with_context(question, prepared.chosen)
    rendered = state.composer.render(units, more)
    citations = [
        {"n": c.n, **state.passage(c.row), "score": round(c.score, 4), "quotes": [list(q) for q in c.quote]}
        for c in rendered.citations
    ]
    return ChatResult("", rendered.text, True, query, citations, asked=sorted(question.doc_ids))


def _parts(
    state: IndexState, question: Question, doc_ids: list[str] | None, vectors: Vectors
) -> list[tuple[Question, Prepared]]:
    """The answered parts of a two-part question ("What's the median salary, and what can senior ones
    earn?"): each part as analysed on its own, the entity of the whole kept where a part names none."""
    out = []
    for q in question.parts:
        if not q.entities and question.entities:
            q = q.with_(entities=question.entities, compare=question.compare)
        prepared = prepare(state, Resolved(q, q.text), doc_ids, vectors)
        if prepared.refusal is None:
            out.append((q, prepared))
    return out


def refused(state: IndexState, query: str, refusal: Refusal, question: Question) -> ChatResult:
    """A refusal for the user: what is missing, what the documents cover, and questions they do answer."""
    suggestions = nearest_suggestions(state.suggestions(), question, state.suggestion_docs)[:4]
    logger.info("abstained (%s): %r", refusal.reason, query)
    return ChatResult(
        "",
        refusal.text(state.covers()),
        False,
        query,
        [],
        suggestions,
        reason=refusal.reason,
        asked=sorted(question.doc_ids),
        unknown=question.unknown_subjects,
    )


def query_texts(resolved: Resolved) -> tuple[str, str]:
    """What a resolved question encodes: the text it searches with, and its focus as written (the phrase whose
    meaning units are scored against; the search text when it has no focus)."""
    question = resolved.question
    return resolved.text, focus_words(question.text, question.focus) or resolved.text


def resolve_with(linker: EntityLinker, question: Question, conversation: ConversationState) -> Resolved:
    """``conversation.resolve`` with what the corpus knows: which documents use a word, which share a school."""
    return resolve(question, conversation, linker.terms.used_in, linker.same_school, linker.school_pages)


def turn_texts(
    linker: EntityLinker, question: Question, conversation: ConversationState
) -> tuple[Resolved | None, list[str]]:
    """The resolved question (None for small talk) and every text its turn encodes: the resolved question, its
    retry on its own, each part of a two-part one."""
    if question.small_talk:
        return None, []
    resolved = resolve_with(linker, question, conversation)
    asked = [resolved]
    if resolved.inherited_entity and stands_alone(question):
        asked.append(Resolved(question, question.text))
    asked += [Resolved(part, part.text) for part in question.parts]
    return resolved, list(dict.fromkeys(text for r in asked for text in query_texts(r)))


def nearest_suggestions(suggestions: list[str], question: Question, docs: dict[str, str]) -> list[str]:
    """Suggestions under a refusal: those about the documents asked about first, then those sharing most words
    with the question, the rest in their order (a refusal never offers the same four whatever was asked)."""
    asked = set(question.tokens)
    wanted = question.doc_ids

    def key(item: tuple[int, str]) -> tuple[bool, int, int]:
        order, text = item
        return (docs.get(text) not in wanted, -len(asked & set(content_tokens(text))), order)

    return [text for _, text in sorted(enumerate(suggestions), key=key)]


def small_talk_reply(kind: str, covers: str) -> str:
    """A short friendly reply to a greeting, thanks, goodbye or "what can you do?"."""
    if kind == "greeting":
        return f"Hello! Ask me about {covers}. Every answer quotes the documents and cites its sources."
    if kind == "thanks":
        return "You're welcome! Ask another question whenever you like."
    if kind == "bye":
        return "Goodbye, and good luck with your plans!"
    return (
        f"I answer questions from a small library of documents: {covers}. "
        "I quote the passages I use and number the sources, so you can check every answer."
    )
