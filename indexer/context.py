"""What a unit of a chunk stands under: the heading over it, the line that leads in its list, and the two read
together with it (the text its context vector is encoded from).

"Fall: May 1" means little alone; read as "General Application Deadlines Fall: May 1" it answers "What are
the application deadlines?". Indexing encodes that text for every unit (``unit_context_vectors.npy``);
answering reads the same structure to score and quote units.
"""

from __future__ import annotations

import re

from .chunking import Chunk, section_leaf

CONTEXT_VERSION = 2  # how ``context_text`` reads a unit: a change rebuilds indexes (their context vectors)

# A line that introduces what follows ("Required documents:", "… include the following").
LEADIN = re.compile(r"(:|\b(the following|as follows|include|includes|including|are)\s*:?)\s*$", re.I)
LISTED_KINDS = ("item", "kv", "row")  # units read as members of a list or table
DIGIT = re.compile(r"\d")


def short_line(text: str) -> bool:
    """A label or an item rather than a sentence: a dozen words at most, no closing punctuation."""
    return len(text.split()) <= 12 and not re.search(r"[.!?]$", text.strip())


def heads_list(chunk: Chunk, unit: int) -> bool:
    """A heading with list items right under it ("Core courses" then its courses): it introduces them."""
    units = chunk.units
    return units[unit].kind == "heading" and unit + 1 < len(units) and units[unit + 1].kind in LISTED_KINDS


def labels_rows(chunk: Chunk, unit: int) -> bool:
    """A short line holding no figure right over a row that holds one ("Spring" over "Application: October 15"):
    a sub-heading that a saved page flattened into its rows."""
    units = chunk.units
    text = units[unit].text
    if len(text.split()) > 4 or DIGIT.search(text) or unit + 1 >= len(units):
        return False
    below = units[unit + 1]
    return below.kind in ("kv", "row") and bool(DIGIT.search(below.text))


def leadin_of(chunk: Chunk, unit: int) -> int | None:
    """The unit that introduces this list item or row, if any (within the same chunk): a lead-in line, or the
    label over a run of rows."""
    if chunk.units[unit].kind not in LISTED_KINDS and not short_line(chunk.units[unit].text):
        return None
    for j in range(unit - 1, max(-1, unit - 12), -1):
        u = chunk.units[j]
        if (LEADIN.search(u.text) and u.kind not in LISTED_KINDS) or labels_rows(chunk, j):
            return j
        if u.kind not in LISTED_KINDS and not short_line(u.text):
            return None
    return None


def opening(chunk: Chunk, unit: int) -> int:
    """The heading a unit stands under within its passage (the last one before it), else the passage's first
    unit."""
    return next((j for j in range(unit - 1, 0, -1) if chunk.units[j].kind == "heading"), 0)


def context_text(chunk: Chunk, unit: int) -> str:
    """The unit read with what it stands under: the heading over it in its passage (else its section's own
    heading, else the document's title) and its list's lead-in, then the unit."""
    units = chunk.units
    first = opening(chunk, unit)
    parts = [units[first].text if first < unit else section_leaf(chunk.section) or chunk.title]
    lead = leadin_of(chunk, unit)
    if lead is not None and lead != first:
        parts.append(units[lead].text)
    parts.append(units[unit].text)
    return " ".join(p for p in parts if p)
