"""Any text splits into chunks within the size limit, punctuation or not, and nothing is lost."""

from __future__ import annotations

import re

from indexer.blocks import Block, ParsedDocument
from indexer.chunking import ChunkerConfig, chunk_document


def _doc(*blocks: Block) -> ParsedDocument:
    return ParsedDocument(
        "catalog", "catalog.md", "Redfield College - Course catalog", "", "program-page", "h", list(blocks)
    )


def _words_in_order(chunks) -> list[str]:
    """The words of the chunks, overlap removed by reading each chunk from where the last one ended."""
    out, end = [], 0
    for c in chunks:
        start = max(c.start, end)
        out.extend(c.text[start - c.start :].split())
        end = max(end, c.end)
    return out


def test_a_long_list_without_punctuation_splits_at_line_breaks():
    lines = [f"HIST {300 + i} Readings in regional history part {i} with seminar" for i in range(1500)]
    cleaned, chunks = chunk_document(_doc(Block("paragraph", "\n".join(lines))), ChunkerConfig())
    assert len(chunks) > 50
    assert max(len(c.text.split()) for c in chunks) <= ChunkerConfig().max_words
    # Cut at line breaks: every unit is made of whole lines of the list.
    assert all(re.match(r"HIST \d+", u.text) for c in chunks for u in c.units)
    assert _words_in_order(chunks) == " ".join(lines).split()


def test_one_endless_line_splits_at_word_boundaries():
    words = [f"topic{i}" for i in range(30_000)]
    _, chunks = chunk_document(_doc(Block("paragraph", " ".join(words))), ChunkerConfig())
    assert max(len(c.text.split()) for c in chunks) <= ChunkerConfig().max_words
    assert _words_in_order(chunks) == words  # no word cut in two, none lost


def test_a_table_too_long_for_one_chunk_splits_between_rows():
    rows = [Block("row", f"Course {i} | Elective seminar | 3 credits") for i in range(800)]
    _, chunks = chunk_document(_doc(*rows), ChunkerConfig())
    assert max(len(c.text.split()) for c in chunks) <= ChunkerConfig().max_words
    assert sum(len(c.units) for c in chunks) == 800  # every row is a unit of exactly one chunk
