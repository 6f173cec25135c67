"""Turn plain text or markdown (often a web page saved as text) into clean structural blocks.

Saved web pages carry navigation, ``[ label ](url)`` links, "Skip to content", repeated menus and
"Related Articles" footers. This module drops that boilerplate, keeps link text where it is content,
and recognises headings (markdown ``#``, question-style lines, short title lines), list items,
table rows and runs of short label/value lines.
"""

from __future__ import annotations

import re
from collections import Counter

from .blocks import Block

LINK = re.compile(r"!?\[\s*([^\]]*?)\s*\]\(\s*[^)]*\)")
MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^\s*(?:[*\-•+‣◦]|\d{1,3}[.)])\s+(.*)$")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
RULE = re.compile(r"^\s*([*\-_=]\s*){3,}$")
INLINE_VALUE = re.compile(r"^[^:]{1,60}:\s*\S")
CURRENCY = re.compile(r"[$€£]\s?\d")
TERMINAL = re.compile(r"[.!?;:,]$")

# Interface text of saved web pages: whole lines that are never content.
BOILERPLATE_LINES = re.compile(
    r"^(skip to (main )?content|apply( now| today)?|request info(rmation)?|loading\.*|read more|"
    r"share( this( article| page)?)?|table of contents|print( this page)?|back to top|"
    r"compare( programs?)?( save( programs?)?)?|save( programs?)?|remove all and close|"
    r"add at least two programs to compare\.?|read full( \w+)? disclaimer|no \w+( \w+)? available\.?|"
    r"all (programs|events)|subscribe|sign up|log ?in|menu|search|close)$",
    re.I,
)
BOILERPLATE_FRAGMENTS = re.compile(r"close tooltip|cookie (policy|settings)|accept (all )?cookies", re.I)
BYLINE = re.compile(r"^by\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,4}(,.*)?$")
SKIP_SECTION = re.compile(
    r"^(explore )?(related|upcoming|recent|similar) (programs|events|articles|posts|courses)$", re.I
)
COMPARE_WIDGET = re.compile(r"^Compare\s*(.+?)\s*Save\s*\1$")
FOOTER = re.compile(
    r"^(related (articles|posts|stories|reading)|you (may|might) also like|recommended (articles|reading)|"
    r"more from (this|our) (blog|site))\s*:?$",
    re.I,
)


def _norm(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[#*>]", " ", line)).strip().lower()


def _words(text: str) -> int:
    return len(text.split())


DANGLING = re.compile(r"\b(and|or|of|the|a|an|to|in|with|for|on|at|by|from|that|which|is|are)$")


def _is_short(text: str) -> bool:
    """A short line with no sentence punctuation: a heading, a label or a value (not a wrapped line)."""
    return _words(text) <= 8 and not TERMINAL.search(text) and len(text) <= 80 and not DANGLING.search(text)


def _heading_like(text: str) -> bool:
    return _is_short(text) and "," not in text and (text[:1].isupper() or text[:1].isdigit())


def _is_question_heading(text: str) -> bool:
    return text.endswith("?") and 3 <= _words(text) <= 30


class _Line:
    __slots__ = ("kind", "text", "level", "blank_before", "header")

    def __init__(self, kind: str, text: str, level: int = 0, blank_before: bool = False, header: tuple[str, ...] = ()):
        self.kind, self.text, self.level, self.blank_before = kind, text, level, blank_before
        self.header = header  # a table row's column names, when its table has a header row


FOOTNOTE_MARK = re.compile(r"\s*\(\d+\)")


def _cells(text: str) -> list[str]:
    """The non-empty cells of a table line ("a | b |")."""
    return [c.strip() for c in text.strip().strip("|").split("|") if c.strip()]


def _column_names(cells: list[str]) -> tuple[str, ...]:
    return tuple(FOOTNOTE_MARK.sub("", c) for c in cells)


def _header_before(out: list[_Line]) -> tuple[tuple[str, ...], int]:
    """The column names over a table's separator line: the cells of the lines just before it (a header row
    saved over several lines: "Headcount (1) | Mean hourly pay |", "Mean yearly pay (2) |", …), and how many
    lines they take."""
    cells: list[str] = []
    taken = 0
    for line in reversed(out):
        if line.kind == "row" or (line.kind == "text" and line.text.endswith("|")):
            cells = _cells(line.text) + cells
            taken += 1
            if line.blank_before:
                break
            continue
        break
    return _column_names(cells), taken


def _shape(cell: str) -> str:
    cell = FOOTNOTE_MARK.sub("", cell)
    if "$" in cell:
        return "money"
    if "%" in cell:
        return "percent"
    return "figure" if any(ch.isdigit() for ch in cell) else "words"


def _names_columns(header: tuple[str, ...], cells: list[str]) -> bool:
    """A header names the columns of a row when it has as many cells and they read otherwise ("Mean yearly
    pay" over "$64,900", "25%" over "$75,450"): a first row of data above the separator ("Early Action |
    December 1") reads like the rows under it."""
    return len(header) == len(cells) and [_shape(c) for c in header] != [_shape(c) for c in cells]


def _tokenise(raw: str) -> list[_Line]:
    """First pass: classify every line, dropping navigation and boilerplate."""
    raw_lines = raw.splitlines()
    delinked = [LINK.sub(lambda m: m.group(1), line).strip() for line in raw_lines]
    counts = Counter(_norm(line) for line in delinked if line)

    out: list[_Line] = []
    blank = False
    skip_level = 0  # inside a "Related programs"-style section of this heading level
    header: tuple[str, ...] = ()  # the column names of the table being read, if it has a header row
    taken = 0  # the lines of that header row, until the first row under it shows whether it names columns
    for original, line in zip(raw_lines, delinked, strict=True):
        if not line:
            blank = True
            continue
        if FOOTER.match(line):
            break
        heading = MD_HEADING.match(line)
        if heading and (skip_level == 0 or len(heading.group(1)) <= skip_level):
            skip_level = len(heading.group(1)) if SKIP_SECTION.match(heading.group(2).strip()) else 0
        if skip_level or SKIP_SECTION.match(_norm(line)) or COMPARE_WIDGET.match(line):
            continue
        text_without_links = LINK.sub("", original)
        if LINK.search(original) and not re.sub(r"[\s*#\-•|+]", "", text_without_links):
            continue  # a line of links only: navigation, menus, "related programs"
        if TABLE_SEPARATOR.match(line):
            header, taken = _header_before(out)
            continue
        if RULE.match(line) or not re.search(r"\w", line):
            continue  # a rule, or a line of layout marks only ("|" cells of an empty table)
        plain = _norm(line)
        if BOILERPLATE_LINES.match(plain) or BOILERPLATE_FRAGMENTS.search(line) or BYLINE.match(line):
            continue
        is_row = "|" in line and len([c for c in line.strip("| ").split("|") if c.strip()]) >= 2
        if not is_row or MD_HEADING.match(line) or BULLET.match(line):
            taken = 0  # no row right under the header: it stays as it is
        if m := MD_HEADING.match(line):
            text = m.group(2).strip()
            if text:
                out.append(_Line("heading", text, level=len(m.group(1)), blank_before=blank))
        elif m := BULLET.match(line):
            out.append(_Line("item", m.group(1).strip(), blank_before=blank))
        elif is_row:
            cells = _cells(line)
            named = header if _names_columns(header, cells) else ()
            if named and taken:
                # The header row heads the table: one line naming its columns, not a row of data to quote.
                out[-taken:] = [
                    _Line("heading", " | ".join(c for c in named if c), blank_before=out[-taken].blank_before)
                ]
            taken = 0
            out.append(_Line("row", " | ".join(cells), blank_before=blank, header=named))
        else:
            header = ()
            out.append(_Line("text", re.sub(r"\s+", " ", line), blank_before=blank))
        blank = False
    return _drop_menus(_vertical_tables(out), counts)


def _cell(line: _Line) -> str | None:
    """The text of a line that is one cell of a table saved a cell per line ("Mean hourly pay |")."""
    if line.kind != "text" or not line.text.endswith("|") or "|" in line.text[:-1]:
        return None
    return line.text[:-1].strip() or None


def _vertical_tables(lines: list[_Line]) -> list[_Line]:
    """Tables saved a cell per line (header cells, then each row's cells) as rows with their column names."""
    out: list[_Line] = []
    i = 0
    while i < len(lines):
        cells = []
        while i + len(cells) < len(lines) and (cell := _cell(lines[i + len(cells)])) is not None:
            cells.append(cell)
        rows = _as_rows(cells) if len(cells) >= 4 else None
        if rows is None:
            skip = max(len(cells), 1)  # no table: the run is kept as it is (one pass, whatever its length)
            out.extend(lines[i : i + skip])
            i += skip
            continue
        header, *data = rows
        # Each row reads as its cells did on the page, a bar after each ("48,210 | $31.20 |").
        out.append(_Line("row", " | ".join(header) + " |", blank_before=lines[i].blank_before))
        names = _column_names(header)
        out.extend(_Line("row", " | ".join(row) + " |", header=names) for row in data)
        i += len(cells)
    return out


def _as_rows(cells: list[str]) -> list[list[str]] | None:
    """The cells cut into a header and rows of the fewest columns for which every row reads alike and the
    header reads otherwise ("Headcount (1)" … over "48,210", "$31.20" …); None when no cut fits."""
    for width in range(2, len(cells) // 2 + 1):
        if len(cells) % width:
            continue
        rows = [cells[k : k + width] for k in range(0, len(cells), width)]
        shapes = {tuple(map(_shape, row)) for row in rows[1:]}
        if len(shapes) == 1 and tuple(map(_shape, rows[0])) not in shapes:
            return rows
    return None


def _drop_menus(lines: list[_Line], counts: Counter) -> list[_Line]:
    """Drop runs of three or more short lines that all recur elsewhere: repeated menus."""
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        j = i
        seen: set[str] = set()
        while (
            j < len(lines)
            and lines[j].kind in ("text", "item")
            and _is_short(lines[j].text)
            and counts[_norm(lines[j].text)] >= 2
            and _norm(lines[j].text) not in seen  # a menu does not repeat its own entries
        ):
            seen.add(_norm(lines[j].text))
            j += 1
        if j - i >= 3:
            for k in range(i, j):
                keep[k] = False
        i = max(j, i + 1)
    return [line for line, k in zip(lines, keep, strict=True) if k]


def _drop_repeats(lines: list[_Line]) -> list[_Line]:
    """Drop second copies of paragraphs (saved pages often repeat a block for mobile layouts)."""
    seen: set[str] = set()
    out = []
    for line in lines:
        if line.kind in ("text", "item") and _words(line.text) >= 8:
            key = _norm(line.text)
            if key in seen:
                continue
            seen.add(key)
        out.append(line)
    return out


def parse_text(raw: str, *, title: str | None = None, page: int | None = None) -> list[Block]:
    """Parse plain text or markdown into blocks."""
    lines = _drop_repeats(_tokenise(raw))
    blocks: list[Block] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if line.kind == "heading":
            blocks.append(Block("heading", line.text, level=line.level, page=page))
            i += 1
        elif line.kind == "item" and _asks_of_faq(lines, i):
            blocks.append(Block("heading", line.text, level=0, page=page))
            i += 1
        elif line.kind in ("item", "row"):
            blocks.append(Block(line.kind, line.text, page=page, header=line.header))
            i += 1
        elif _is_question_heading(line.text) and (i + 1 < n and lines[i + 1].kind != "heading"):
            blocks.append(Block("heading", line.text, level=0, page=page))
            i += 1
        elif _is_short(line.text):
            i = _short_run(lines, i, blocks, title, page)
        else:
            text, i = _paragraph(lines, i)
            blocks.append(Block("para", text, page=page))
    return blocks


def _asks_of_faq(lines: list[_Line], i: int) -> bool:
    """A numbered or bulleted question with its answer under it ("4. Can I work while enrolled?" then "You can
    work except …"): an FAQ's question heads its answer. A question among questions (a list of questions to ask
    yourself) stays an item."""

    def question(k: int) -> bool:
        return 0 <= k < len(lines) and _is_question_heading(lines[k].text)

    nxt = i + 1
    return (
        question(i)
        and nxt < len(lines)
        and lines[nxt].kind != "heading"
        and not question(nxt)
        and not (i and lines[i - 1].kind == "item" and question(i - 1))
    )


def _next_kind(lines: list[_Line], k: int) -> str:
    """What follows a run of short lines from ``k``: a heading, a paragraph, an item or row, or the end."""
    n = len(lines)
    while k < n and lines[k].kind == "text" and _is_short(lines[k].text):
        k += 1
    if k >= n:
        return "end"
    if lines[k].kind == "text" and _is_question_heading(lines[k].text):
        return "heading"
    return "para" if lines[k].kind == "text" else lines[k].kind


def _states_value(text: str) -> bool:
    """A label with its value on one line ("Deadline: March 3", "Studio Fee – $40 – $90")."""
    return bool(INLINE_VALUE.match(text) or CURRENCY.search(text))


def _short_run(lines: list[_Line], i: int, blocks: list[Block], title: str | None, page: int | None) -> int:
    """A run of short lines from ``i`` as blocks: label/value pairs or a short paragraph, the title when it opens
    the document, and its last line as a heading when a paragraph or heading follows. Returns where it ends."""
    j = i
    while j < len(lines) and lines[j].kind == "text" and _is_short(lines[j].text):
        j += 1
    run = [lines[k].text for k in range(i, j)]
    after = _next_kind(lines, j)
    prev_kind = blocks[-1].kind if blocks else "start"
    heading = None
    # A last line that states a value ("Deadline: March 3", "Studio Fee – $40 – $90") is a value, not a heading:
    # so is the last of a run of "Label: value" lines.
    valued = _states_value(run[-1])
    # After a line that states its own value ("Bachelor's degree $120,000") a line is no value of it: it heads
    # what follows, however it is written ("data-scientists Data Scientists").
    heads = _heading_like(run[-1]) or (len(run) > 1 and _states_value(run[-2]))
    if not valued and after == "heading" and _heading_like(run[-1]):
        heading = run.pop()
        level = max((lines[j].level or 2) - 1, 1)
    elif not valued and after in ("para", "item", "row") and prev_kind != "heading" and heads:
        heading = run.pop()
        level = 0
    if prev_kind == "start" and run and _heading_like(run[0]) and (not title or _norm(run[0]) == _norm(title)):
        blocks.append(Block("heading", run.pop(0), level=1, page=page))
    if run:
        blocks.extend(_kv_blocks(run, page))
    if heading:
        blocks.append(Block("heading", heading, level=level, page=page))
    return j


def _paragraph(lines: list[_Line], i: int) -> tuple[str, int]:
    """The paragraph starting at ``i``, hard-wrapped lines (PDF text, wrapped plain text) joined; and its end."""
    text = lines[i].text
    i += 1
    while (
        i < len(lines)
        and lines[i].kind == "text"
        and not lines[i].blank_before
        and not re.search(r"[.!?:]['\")”]?$", text)
        and not _is_question_heading(lines[i].text)
        and (not _is_short(lines[i].text) or lines[i].text[:1].islower() or re.search(r"[.!?]['\")”]?$", lines[i].text))
    ):
        text = f"{text} {lines[i].text}"
        i += 1
    return text, i


def _kv_blocks(run: list[str], page: int | None) -> list[Block]:
    """A run of short lines: label/value pairs when it has several lines, else a short paragraph."""
    if len(run) == 1:
        return [Block("para", run[0], page=page)]
    return [Block("kv", "\n".join(run), page=page)]
