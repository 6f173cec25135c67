"""Question headings found in the corpus (FAQ pages): the first suggestions, before the server checks its own."""

from __future__ import annotations

from itertools import zip_longest

from .chunking import Chunk, section_leaf


def question_heading(section: str) -> str | None:
    """A section's last heading when it is phrased as a question (an FAQ's), fit to suggest as it stands."""
    leaf = section_leaf(section)
    return leaf if leaf.endswith("?") and 4 <= len(leaf.split()) <= 16 else None


def suggest_questions(chunks: list[Chunk], documents: list[dict], limit: int = 6) -> list[str]:
    """Headings phrased as questions, alternating between documents."""
    per_doc: dict[str, list[str]] = {d["doc_id"]: [] for d in documents}
    for chunk in chunks:
        leaf = question_heading(chunk.section)
        if leaf is not None:
            bucket = per_doc.setdefault(chunk.doc_id, [])
            if leaf not in bucket:
                bucket.append(leaf)
    out: list[str] = []
    for row in zip_longest(*per_doc.values()):
        out.extend(q for q in row if q)
    return out[:limit]
