"""Structure-aware chunking: blocks → cleaned text → sections → chunks with sentence spans.

Headings start sections (the section records its heading trail); tables and label/value runs stay
whole with their heading; long sections break at sentence boundaries with a small overlap.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

import blingfire

from .blocks import Block, ParsedDocument
from .textclean import INLINE_VALUE

TRAIL_SEPARATOR = " › "
# Bump when cleaning or chunking changes what chunks hold: older indexes are then rebuilt, not reused.
CHUNKER_VERSION = 13


@dataclass(frozen=True)
class ChunkerConfig:
    target_words: int = 140
    max_words: int = 220
    min_words: int = 40
    overlap_sentences: int = 1

    def fingerprint(self) -> str:
        return hashlib.sha256(repr((CHUNKER_VERSION, asdict(self))).encode()).hexdigest()[:16]


@dataclass
class Unit:
    """A quotable piece of a chunk: a sentence, a table row, a label/value pair or a list item.

    ``start``/``end`` are offsets into the chunk text; ``text`` is how it reads when quoted alone
    (rows and label/value pairs carry their heading, e.g. "Spring Semester Entry — Domestic
    Applicants: December 1").
    """

    start: int
    end: int
    text: str
    kind: str


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    source: str
    page: int | None
    start: int
    end: int
    text: str
    units: list[Unit] = field(default_factory=list)

    def embed_text(self) -> str:
        """What gets embedded and indexed for BM25: the passage with its title and section."""
        head = f"{self.title}. {self.section}." if self.section else f"{self.title}."
        return f"{head}\n{self.text}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        units = [Unit(**u) for u in data.get("units", [])]
        return cls(**{**data, "units": units})


@dataclass
class _Piece:
    """A span of the cleaned text that chunking never splits (a sentence, row or kv pair)."""

    start: int
    end: int
    words: int
    kind: str
    label: str
    atomic_group: int | None = None  # pieces of one table / kv run share a group


@dataclass
class _Section:
    trail: list[str]
    heading_start: int | None
    pieces: list[_Piece] = field(default_factory=list)
    page: int | None = None

    @property
    def words(self) -> int:
        return sum(p.words for p in self.pieces)


@dataclass
class CleanedDocument:
    text: str
    sections: list[_Section]


def _sentences(text: str) -> list[tuple[int, int]]:
    if not text.strip():
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    spans = [(s, e) for s, e in offsets if text[s:e].strip()]
    return spans or [(0, len(text))]


def _bounded(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """A sentence span cut into spans of at most ``limit`` words: at line breaks first (a list written without
    punctuation is one "sentence" to the splitter), then at word boundaries. Linear in the span's length."""
    if len(text[s:e].split()) <= limit:
        return [(s, e)]
    out: list[tuple[int, int]] = []
    start = words = 0
    for match in re.finditer(r"[^\n]+", text[s:e]):
        line_words = len(match.group().split())
        if line_words > limit:
            if words:
                out.append((s + start, s + match.start()))
            out.extend(_by_words(text, s + match.start(), s + match.end(), limit))
            start, words = match.end(), 0
            continue
        if words and words + line_words > limit:
            out.append((s + start, s + match.start()))
            start, words = match.start(), 0
        words += line_words
    if words:
        out.append((s + start, e))
    return [(a, b) for a, b in out if text[a:b].strip()]


def _by_words(text: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """Spans of at most ``limit`` words, cut at word boundaries."""
    bounds = [m.span() for m in re.finditer(r"\S+", text[s:e])]
    return [(s + bounds[i][0], s + bounds[min(i + limit, len(bounds)) - 1][1]) for i in range(0, len(bounds), limit)]


def _kv_pairs(lines: list[str]) -> list[list[int]]:
    """Group label/value lines into pairs, pairing from the end (a leading line may stand alone).

    A line that already reads "Label: value" is a pair by itself and is never joined to a neighbour.
    """
    groups: list[list[int]] = []
    i = len(lines) - 1
    while i >= 0:
        if INLINE_VALUE.match(lines[i]) or (i >= 1 and INLINE_VALUE.match(lines[i - 1])):
            groups.append([i])
            i -= 1
        elif i >= 1:
            groups.append([i - 1, i])
            i -= 2
        else:
            groups.append([i])
            i -= 1
    return list(reversed(groups))


def clean_document(blocks: list[Block], max_piece_words: int = ChunkerConfig.max_words // 2) -> CleanedDocument:
    """Lay the blocks out as one cleaned text and cut it into sections of pieces of at most ``max_piece_words``."""
    layout = _Layout(max_piece_words)
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            layout.heading(block, text)
        else:
            layout.content(block, text)
        layout.prev_kind = block.kind
    return CleanedDocument(text="".join(layout.parts), sections=[s for s in layout.sections if s.pieces])


class _Layout:
    """The cleaned text as it is laid out, with the heading trail and the sections of pieces so far."""

    def __init__(self, max_piece_words: int):
        self.max_piece_words = max_piece_words
        self.parts: list[str] = []
        self.pos = 0
        self.stack: list[tuple[int, str, bool]] = []  # (level, heading, is_plain)
        self.sections: list[_Section] = [_Section(trail=[], heading_start=None)]
        self.group_id = 0
        self.prev_kind: str | None = None

    def emit(self, text: str) -> int:
        """Append a block's text (a newline between blocks); returns where it starts."""
        if self.parts:
            self.parts.append("\n")
            self.pos += 1
        start = self.pos
        self.parts.append(text)
        self.pos += len(text)
        return start

    def heading(self, block: Block, text: str) -> None:
        """A heading opens a section; a plain one (level 0) sits under the last marked-up heading."""
        level, plain = block.level, block.level == 0
        if plain:
            plain_levels = [lv for lv, _, p in self.stack if p]
            level = plain_levels[-1] if plain_levels else (self.stack[-1][0] + 1 if self.stack else 1)
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text, plain))
        start = self.emit(text)
        section = _Section(trail=[h for _, h, _ in self.stack], heading_start=start, page=block.page)
        if plain:
            # A heading guessed from a short line ("Deadline: March 3", "220-hour residency") may be the
            # answer itself: it is quotable too, as the first unit of the section it opens.
            section.pieces.append(_Piece(start, start + len(text), len(text.split()), "heading", text))
        self.sections.append(section)

    def content(self, block: Block, text: str) -> None:
        section = self.sections[-1]
        if section.page is None:
            section.page = block.page
        # Rows and label/value pairs are quoted with their heading, unless it is the document's title.
        leaf = section.trail[-1] if section.trail and self.stack and self.stack[-1][0] > 1 else ""
        start = self.emit(text)
        if block.kind == "row":
            self._row(section, leaf, text, start, block.header)
        elif block.kind == "kv":
            self._pairs(section, leaf, text, start)
        else:
            self._prose(section, leaf, text, start, "item" if block.kind == "item" else "sentence")

    def _row(self, section: _Section, leaf: str, text: str, start: int, header: tuple[str, ...] = ()) -> None:
        if self.prev_kind != "row":
            self.group_id += 1
        cells = text.split(" | ")
        if len(header) == len(cells):
            # Each value with the name of its column: "Headcount: 48,210; Mean yearly pay: $64,900".
            label = "; ".join(f"{name}: {cell}" for name, cell in zip(header, cells, strict=True))
        else:
            label = f"{cells[0]}: {' | '.join(cells[1:])}" if len(cells) > 1 else text
        section.pieces.append(
            _Piece(start, start + len(text), len(text.split()), "row", _prefix(leaf, label), self.group_id)
        )

    def _pairs(self, section: _Section, leaf: str, text: str, start: int) -> None:
        self.group_id += 1
        lines = text.split("\n")
        line_starts, offset = [], start
        for line in lines:
            line_starts.append(offset)
            offset += len(line) + 1
        for pair in _kv_pairs(lines):
            a, b = pair[0], pair[-1]
            words = sum(len(lines[k].split()) for k in pair)
            label = ": ".join(lines[k].strip() for k in pair)
            end = line_starts[b] + len(lines[b])
            section.pieces.append(_Piece(line_starts[a], end, words, "kv", _prefix(leaf, label), self.group_id))

    def _prose(self, section: _Section, leaf: str, text: str, start: int, kind: str) -> None:
        spans = [span for s, e in _sentences(text) for span in _bounded(text, s, e, self.max_piece_words)]
        for s, e in spans:
            sentence = text[s:e].strip()
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            label = sentence
            if kind == "item" and len(spans) == 1 and len(sentence.split()) <= 4:
                label = _prefix(leaf, sentence)
            begin = start + s + lead
            section.pieces.append(_Piece(begin, begin + len(sentence), len(sentence.split()), kind, label))


def _prefix(heading: str, label: str) -> str:
    if heading and heading.lower() not in label.lower():
        return f"{heading} — {label}"
    return label


def chunk_document(doc: ParsedDocument, config: ChunkerConfig) -> tuple[str, list[Chunk]]:
    """Return the cleaned text of a document and its chunks."""
    cleaned = clean_document(doc.blocks, config.max_words // 2)  # a piece and its overlap fit in a chunk
    text = cleaned.text
    groups = _pack(cleaned.sections, config)
    chunks: list[Chunk] = []
    for ordinal, (section, pieces) in enumerate(groups):
        start = pieces[0].start
        if section.heading_start is not None and section.pieces and pieces[0] is section.pieces[0]:
            start = section.heading_start
        end = pieces[-1].end
        body = text[start:end]
        units = [Unit(p.start - start, p.end - start, p.label, p.kind) for p in pieces]
        digest = hashlib.sha1(body.encode()).hexdigest()[:8]
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#c{ordinal}-{digest}",
                doc_id=doc.doc_id,
                title=doc.title,
                section=TRAIL_SEPARATOR.join(section.trail),
                source=doc.source,
                page=section.page,
                start=start,
                end=end,
                text=body,
                units=units,
            )
        )
    return text, chunks


def _pack(sections: list[_Section], config: ChunkerConfig) -> list[tuple[_Section, list[_Piece]]]:
    """Group pieces into chunks: small sections merge forward, long ones split at piece bounds."""
    out: list[tuple[_Section, list[_Piece]]] = []
    current: tuple[_Section, list[_Piece]] | None = None
    for section in sections:
        if current is not None:
            words = sum(p.words for p in current[1])
            if (
                words < config.min_words
                and words + section.words <= config.max_words
                and _same_page(current[0], section)
                and _related(current[0], section)
            ):
                current[1].extend(section.pieces)
                continue
            out.append(current)
            current = None
        if section.words <= config.max_words:
            current = (section, list(section.pieces))
            continue
        for piece_group in _split(section.pieces, config):
            if current is not None:
                out.append(current)
            current = (section, piece_group)
    if current is not None:
        out.append(current)
    return out


def _related(a: _Section, b: _Section) -> bool:
    """b is a sibling or a descendant of a: merging them keeps a's heading trail true."""
    parent = a.trail[:-1]
    return b.trail[: len(parent)] == parent


def _same_page(a: _Section, b: _Section) -> bool:
    return a.page == b.page or a.page is None or b.page is None


def _split(pieces: list[_Piece], config: ChunkerConfig) -> list[list[_Piece]]:
    """Split a long section at piece boundaries (never inside a table or kv run)."""
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    words = 0
    i = 0
    group_words: dict[int | None, int] = {}
    for p in pieces:
        if p.atomic_group is not None:
            group_words[p.atomic_group] = group_words.get(p.atomic_group, 0) + p.words
    while i < len(pieces):
        # An atomic run: a whole table or label/value run moves as one.
        j = i + 1
        if pieces[i].atomic_group is not None:
            while j < len(pieces) and pieces[j].atomic_group == pieces[i].atomic_group:
                j += 1
        if group_words.get(pieces[i].atomic_group, 0) > config.max_words:
            j = i + 1  # a table or run too long for one chunk is split between its rows like sentences
        run = pieces[i:j]
        run_words = sum(p.words for p in run)
        if current and words + run_words > config.max_words or (current and words >= config.target_words):
            groups.append(current)
            overlap = (
                [p for p in current[-config.overlap_sentences :] if p.kind == "sentence"]
                if config.overlap_sentences
                else []
            )
            current = list(overlap)
            words = sum(p.words for p in current)
        current.extend(run)
        words += run_words
        i = j
    if current:
        if (
            groups
            and words < config.min_words // 2
            and sum(p.words for p in groups[-1]) + words <= config.max_words * 1.2
        ):
            groups[-1].extend(p for p in current if p not in groups[-1])
        else:
            groups.append(current)
    return groups


def section_leaf(section: str) -> str:
    """The last heading of a section's trail ("Spring Semester Entry" of "Admissions › Spring Semester Entry")."""
    return section.split(TRAIL_SEPARATOR)[-1].strip() if section else ""
