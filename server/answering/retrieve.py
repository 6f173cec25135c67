"""Retrieval steered by the question's entities: each named entity is searched within its own documents."""

from __future__ import annotations

import numpy as np

from indexer.search import Hit, Retriever

from .question import CONTRAST_GROUPS, Question, tokenize_query

# Each contrast word's stem → the words on the other side of its contrast, as written ("online" → "campus
# ground onsite residential"): a yes/no question's answer may name only the other side ("On ground").
_OTHER_SIDE = {
    stem: " ".join(w for w in group.split() if tokenize_query(w) != [stem])
    for group in CONTRAST_GROUPS
    for stem in tokenize_query(group)
}


def lexical_query(question: Question, query: str) -> str:
    """The text the lexical search reads: a yes/no question on one side of a contrast also searches the
    other side ("Is it online?" also finds "Program format: On ground")."""
    if question.kind != "yesno":
        return query
    others = [_OTHER_SIDE[t] for t in question.focus if t in _OTHER_SIDE]
    return " ".join([query, *others])


def retrieve(
    retriever: Retriever,
    question: Question,
    query: str,
    vector: np.ndarray,
    k: int,
    *,
    doc_ids: list[str] | None = None,
) -> list[list[Hit]]:
    """Hits for each entity of the question (one list per entity; one list when it names none).

    ``doc_ids`` (the caller's own restriction) narrows every entity; an entity outside it gets no hits.
    """
    allowed = set(doc_ids) if doc_ids else None
    groups: list[list[str] | None] = []
    for group in question.entities or (None,):
        if group is None:
            groups.append(sorted(allowed) if allowed else None)
        else:
            groups.append(sorted(group & allowed) if allowed else sorted(group))
    per = k if len(groups) == 1 else max(3, k // len(groups) + 1)
    out: list[list[Hit]] = []
    for group in groups:
        if group is not None and not group:
            out.append([])
            continue
        out.append(retriever.search(lexical_query(question, query), vector, k=per, doc_ids=group))
    return out


def interleave(lists: list[list[Hit]]) -> list[Hit]:
    """One ranking from per-entity rankings: first of each, then second of each…, without repeats."""
    seen: set[int] = set()
    out: list[Hit] = []
    for rank in range(max((len(h) for h in lists), default=0)):
        for hits in lists:
            if rank < len(hits) and hits[rank].row not in seen:
                seen.add(hits[rank].row)
                out.append(hits[rank])
    return out
