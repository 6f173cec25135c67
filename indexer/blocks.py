"""The structural pieces a parsed document is made of, before chunking."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Block:
    """One structural piece of a document.

    kind: ``heading`` (with ``level``), ``para``, ``item`` (list item), ``row`` (table row, cells
    joined by `` | ``) or ``kv`` (a run of short label/value lines, one per line).
    """

    kind: str
    text: str
    level: int = 0
    page: int | None = None
    header: tuple[str, ...] = ()  # a row's column names, when its table has a header row


@dataclass
class ParsedDocument:
    """A document read from disk: its metadata and its blocks."""

    doc_id: str
    path: str
    title: str
    source: str
    kind: str
    content_hash: str
    blocks: list[Block] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # other names of the document's subject (front matter)
