"""Question headings found in the corpus (FAQ pages): the first suggestions, before the server checks its own."""

from __future__ import annotations

from itertools import zip_longest

from .chunking import TRAIL_SEPARATOR, Chunk


def suggest_questions(chunks: list[Chunk], documents: list[dict], limit: int = 6) -> list[str]:
    """Headings phrased as questions, alternating between documents."""
    per_doc: dict[str, list[str]] = {d["doc_id"]: [] for d in documents}
    for chunk in chunks:
        leaf = chunk.section.split(TRAIL_SEPARATOR)[-1].strip() if chunk.section else ""
        if leaf.endswith("?") and 4 <= len(leaf.split()) <= 16:
            bucket = per_doc.setdefault(chunk.doc_id, [])
            if leaf not in bucket:
                bucket.append(leaf)
    out: list[str] = []
    for row in zip_longest(*per_doc.values()):
        out.extend(q for q in row if q)
    return out[:limit]
