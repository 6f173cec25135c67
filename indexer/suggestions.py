"""Suggested questions drawn from the corpus itself (question-style headings, else section topics)."""

from __future__ import annotations

from itertools import zip_longest

from .chunking import TRAIL_SEPARATOR, Chunk


def suggest_questions(chunks: list[Chunk], documents: list[dict], limit: int = 6) -> list[str]:
    per_doc: dict[str, list[str]] = {}
    titles = {d["doc_id"]: d["title"] for d in documents}
    for chunk in chunks:
        if not chunk.section:
            continue
        leaf = chunk.section.split(TRAIL_SEPARATOR)[-1].strip()
        if leaf.endswith("?") and 4 <= len(leaf.split()) <= 16:
            question = leaf
        elif 2 <= len(leaf.split()) <= 5 and not leaf[:1].isdigit() and len(chunk.text.split()) >= 40:
            question = f"What does “{titles.get(chunk.doc_id, chunk.title)}” say about {leaf.lower()}?"
        else:
            continue
        bucket = per_doc.setdefault(chunk.doc_id, [])
        if question not in bucket:
            bucket.append(question)
    # Prefer real question headings, then alternate between documents.
    for bucket in per_doc.values():
        bucket.sort(key=lambda q: 0 if not q.startswith("What does “") else 1)
    out: list[str] = []
    for row in zip_longest(*per_doc.values()):
        out.extend(q for q in row if q)
    return out[:limit]
