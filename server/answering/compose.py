"""Choose what to quote: score every quotable unit of the retrieved passages, then render a cited answer.

Nothing is generated: every sentence of an answer is a unit (sentence, table row, label/value pair,
list item) of a cited passage. A lead-in ("…the following courses:") is quoted with the items it
introduces; a sentence opening with "This"/"It" is quoted with the one before it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from indexer.chunking import Chunk, section_leaf
from indexer.context import (
    LEADIN,
    LISTED_KINDS,
    context_text,
    heads_list,
    labels_rows,
    leadin_of,
    opening,
    short_line,
)
from indexer.search import Hit
from indexer.store import LoadedIndex

from .entities import CorpusTerms
from .question import CONTRASTS, FILLER, SYNONYMS, Question, content_tokens, matches_kind, side_by_side
from .weights import UNIT_FEATURES, Weights

PRONOUN_START = re.compile(r"^(This|These|That|Those|It|They|Such|However|But|Also|Additionally|Moreover)\b")
# A unit that takes a side: negation, obligation, limitation (what a yes/no answer states).
POLAR = re.compile(r"\b(?:not|no|never|none|only|must|required|cannot|yes|may|eligible)\b|n['’]t\b", re.I)
# A unit that states a whole ("a total of 33 credits", "Total $76,088"): what "how many / how much" asks of a
# program or a budget, unless the question names a part.
TOTAL = re.compile(r"\b(?:total|totals|totaling|totalling|altogether)\b", re.I)
FIGURE = re.compile(r"\d[\d,.]*")  # the numbers a unit states
BARE_REPLY = re.compile(r"^\s*(yes|no)\b[.!,]?\s*$", re.I)  # "Yes." alone means nothing without its question
# A value stated per something ("$925 per credit", "12 credits per semester", "$58,400 a year").
RATE = re.compile(
    r"\bper\b|\beach\b|\ba (year|semester|term|quarter|month|week|credit|course|class)\b|/\s?(yr|year|credit|hour)\b",
    re.I,
)


@dataclass(frozen=True)
class ComposeConfig:
    chunks_considered: int = 5
    # The quote budget: at most this many units of this many characters in all (lead-ins and antecedents
    # may add up to ``max_context_chars``); within it, close seconds are quoted (``Weights.close_second``).
    max_units: int = 4
    max_chars: int = 600
    max_context_chars: int = 700
    max_list_chars: int = 520  # a lead-in with its items may run this long before "and N more"
    context_weight: float = 0.5  # a query word found only in the passage's section heading counts this much


@dataclass
class Candidate:
    row: int
    unit: int
    group: int  # which entity of the question it answers (0 when it names none)
    score: float
    feats: dict[str, float]
    text: str
    start: int
    end: int
    typed: bool
    touches: bool = True  # its own words (or its lead-in's) cover some of the focus, not only its section heading


@dataclass(slots=True)
class _UnitInfo:
    """The question-independent facts of one unit that scoring reads (see ``Composer._unit_info``)."""

    bare: bool  # a lone "Yes."/"No."
    polar: bool  # says not / only / must / required …: takes a side, as a yes/no answer does
    total: bool  # states a whole ("a total of 33 credits")
    have: frozenset[str]  # its content tokens
    with_title: frozenset[str]  # and its document title's
    focus_have: frozenset[str]  # and its lead-in's
    near: frozenset[str]  # and the sentence before it in its paragraph
    few_words: bool
    leadin: bool
    rate: bool
    asks: bool  # ends with a question mark
    heading: bool  # a short line read as a heading (quotable, but often only a label)
    section: frozenset[str]  # its section's words (see ``Composer.section_tokens``)
    under: frozenset[str]  # the words of the later heading of its passage it stands under, if any
    initials: tuple[list[str], str] | None = None  # first letters of its words, read when a question has acronyms
    before: tuple[int, ...] = ()  # the units that set its context (``Composer.context_before``)
    context: tuple[int, ...] = ()  # and its lead-in


@dataclass
class Citation:
    n: int
    row: int
    score: float
    quote: list[tuple[int, int]] = field(default_factory=list)  # spans in the chunk text


@dataclass
class Answer:
    """The quoted units as prose, each passage followed by its [n], and the citations behind the markers."""

    text: str
    citations: list[Citation]


def is_eligible(typed, valued: bool):
    """Whether a unit may answer: one holding a value of the asked kind when the question wants a value (a
    date, an amount…), any unit otherwise. Works on one unit (bools) or many (a numpy array of ``typed``)."""
    return typed | (not valued)


@dataclass(frozen=True)
class _Asked:
    """What unit scoring reads of the question, worked out once per question."""

    q_tokens: tuple  # the question's words with their weights (see Composer._weighted)
    focus: tuple  # its focus words likewise
    contrasts: list[tuple]  # (focus word, the words on the other side of its contrast)
    asks_rate: bool
    wants_leadin: bool
    yesno: bool
    valued: bool
    condition: tuple  # the asker's case, stated before the question (``Question.condition``), weighted likewise
    sums: bool  # asks how many or how much

    @classmethod
    def of(cls, question: Question, weighted) -> _Asked:
        return cls(
            weighted([t for t in question.tokens if t not in FILLER] or list(question.tokens)),
            weighted(question.focus),
            [(t, CONTRASTS[t]) for t in question.focus if t in CONTRASTS],
            bool(RATE.search(question.text)),
            question.kind == "list",
            question.kind == "yesno",
            question.valued,
            weighted(question.condition),
            question.kind in ("count", "money"),
        )


class Composer:
    """Scores units and renders answers for one index version."""

    def __init__(
        self,
        index: LoadedIndex,
        weights: Weights,
        config: ComposeConfig | None = None,
        terms: CorpusTerms | None = None,
    ):
        self.index = index
        self._terms = terms or CorpusTerms(index)
        self._families: dict[str, frozenset[str]] = {}
        self._kinds: dict[tuple[int, int, str], bool] = {}  # bounded: units × kinds of one index version
        self.weights = weights
        self.config = config or ComposeConfig()
        self._idf = functools.lru_cache(maxsize=65536)(index.lexical.idf)  # one index version: fixed values
        self._unit_tokens: dict[tuple[int, int], set[str]] = {}
        self._context: dict[int, tuple[set[str], set[str]]] = {}
        self._units: dict[tuple[int, int], _UnitInfo] = {}  # bounded: the units of one index version

    # --- features ---------------------------------------------------------------------------
    def unit_tokens(self, row: int, unit: int) -> set[str]:
        key = (row, unit)
        if key not in self._unit_tokens:
            self._unit_tokens[key] = set(content_tokens(self.index.chunks[row].units[unit].text))
        return self._unit_tokens[key]

    def context_tokens(self, row: int) -> tuple[set[str], set[str]]:
        """(title tokens, section tokens not in the title) of a chunk."""
        if row not in self._context:
            chunk = self.index.chunks[row]
            title = set(content_tokens(chunk.title))
            self._context[row] = (title, set(content_tokens(chunk.section)) - title)
        return self._context[row]

    def _family(self, token: str) -> frozenset[str]:
        """The corpus words ``question.covers`` counts as this token (its word family and synonyms), once each.

        Units' words are the corpus's words, so a set test against this replaces a scan per unit.
        """
        family = self._families.get(token)
        if family is None:
            family = frozenset(self._terms.family(token)) | {token} | SYNONYMS.get(token, frozenset())
            if len(self._families) < 65536:
                self._families[token] = family
        return family

    def _typed(self, row: int, unit: int, kind: str) -> bool:
        key = (row, unit, kind)
        typed = self._kinds.get(key)
        if typed is None:
            chunk = self.index.chunks[row]
            # A label over rows ("Fall" over "Application: December 1") names what they date; it holds no value.
            text = chunk.units[unit].text
            typed = matches_kind(text, kind) and not labels_rows(chunk, unit)
            if not typed and LEADIN.search(text):
                # A lead-in is quoted with its items ("Employment estimates:" over its table's row): it holds
                # the value when they do.
                units = (self.index.chunks[r].units[j].text for r, j in self.items_after(row, unit))
                typed = any(matches_kind(t, kind) for t in units)
            self._kinds[key] = typed
        return typed

    def _weighted(self, tokens: tuple[str, ...] | list[str]) -> tuple[list[tuple[str, float, frozenset[str]]], float]:
        """Each token with its idf and family, and the idf total: read once per question, not once per unit."""
        items = [(t, self._idf(t), self._family(t)) for t in tokens]
        return items, sum(w for _, w, _ in items) or 1.0

    def initials(self, row: int, unit: int, acronyms: tuple[str, ...]) -> set[str]:
        """The question's acronyms spelled out in a unit: "gpa" when it says "grade point average"."""
        if not acronyms:
            return set()
        words, joined = self._initials_of(row, unit)
        return {a for a in acronyms if len(a) >= 2 and a in joined and _spelled(a, words)}

    def _spelled_near(self, row: int, unit: int, acronyms: tuple[str, ...]) -> tuple[set[str], set[str]]:
        """The question's acronyms spelled out in the unit, and in it or its context (``context_before``)."""
        spelled = self.initials(row, unit, acronyms)
        if not acronyms:
            return spelled, spelled
        near = spelled.union(*(self.initials(row, j, acronyms) for j in self._unit_info(row, unit).before))
        return spelled, near

    def _initials_of(self, row: int, unit: int) -> tuple[list[str], str]:
        info = self._unit_info(row, unit)
        if info.initials is None:
            words = [w[0] for w in re.findall(r"[a-z]+", self.index.chunks[row].units[unit].text.lower())]
            info.initials = (words, "".join(words))
        return info.initials

    def _list_first(self, question: Question, chosen: list[Candidate]) -> list[Candidate]:
        """When the best unit is a lead-in, or an item of one for a list question, the list is the answer: close
        seconds from its passages would take its room and stand between the lead-in and its items (the
        items among them are quoted with the list, in their order). A list question whose best unit is no
        list but one of whose seconds brings one ("… five core courses." then "Core courses:") quotes the
        best unit, then the list, before any other second."""
        if not chosen:
            return chosen
        best = chosen[0]
        listed = best if self._list_lead(question, best) is not None else None
        if listed is None and question.kind == "list":
            listed = next((c for c in chosen[1:] if self._list_lead(question, c) is not None), None)
        if listed is None:
            return chosen
        items = self.items_after(listed.row, self._list_lead(question, listed))
        rows = {listed.row} | {row for row, _ in items}
        rest = [c for c in chosen[1:] if c is not listed and c.row not in rows]
        return [best, *rest] if listed is best else [best, listed, *rest]

    def _list_lead(self, question: Question, cand: Candidate) -> int | None:
        """The lead-in a quoted unit brings its list with: the unit itself when it is one, else, for a list
        question, the lead-in of the item it is."""
        if LEADIN.search(cand.text):
            return cand.unit
        if question.kind == "list":
            chunk = self.index.chunks[cand.row]
            # A heading over list items leads them in too, for a question asking for a list.
            return cand.unit if heads_list(chunk, cand.unit) else leadin_of(chunk, cand.unit)
        return None

    def items_after(self, row: int, lead: int) -> list[tuple[int, int]]:
        """(row, unit) of the items a lead-in introduces: those after it in its passage, or, when it ends its
        passage, the list items that open the next passage of its document (a list under a sub-heading:
        "… the following skills:" then "Essential Math Skills" and its items)."""
        chunk = self.index.chunks[row]
        items = []
        for j in range(lead + 1, len(chunk.units)):
            u = chunk.units[j]
            if u.kind not in LISTED_KINDS and not short_line(u.text) and j > lead + 1:
                break
            items.append((row, j))
        nxt = row + 1
        if items or nxt >= len(self.index.chunks) or self.index.chunks[nxt].doc_id != chunk.doc_id:
            return items
        for j, u in enumerate(self.index.chunks[nxt].units):
            if u.kind == "heading":
                continue  # a sub-heading within the list ("Instrument Skills")
            if u.kind not in LISTED_KINDS:
                break
            items.append((nxt, j))
        return items

    @staticmethod
    def paragraph_before(chunk: Chunk, unit: int) -> int | None:
        """The sentence before this one in the same paragraph (no line break between them), if any."""
        if unit == 0:
            return None
        prev = chunk.units[unit - 1]
        return unit - 1 if "\n" not in chunk.text[prev.end : chunk.units[unit].start] else None

    @staticmethod
    def context_before(chunk: Chunk, unit: int) -> set[int]:
        """The units that set a unit's context: the one before it (the sentence before, or the line that
        labels a row: "Fall semester: …" over "Domestic applicants: July 15"), and the first of its passage
        or of the section it stands in within the passage (what it is about). Chosen by leaving one set out
        over the unit before alone."""
        return {unit - 1, opening(chunk, unit)} if unit else set()

    def section_tokens(self, row: int, unit: int) -> frozenset[str]:
        """The section words of a unit: its passage's, or, under a later heading of the passage (a passage may
        hold several short sections), that heading's in place of the first section's own."""
        return self._unit_info(row, unit).section

    def _unit_info(self, row: int, unit: int) -> _UnitInfo:
        """What scoring reads of a unit that does not depend on the question, worked out once per index version."""
        key = (row, unit)
        info = self._units.get(key)
        if info is None:
            chunk = self.index.chunks[row]
            text = chunk.units[unit].text
            have = frozenset(self.unit_tokens(row, unit))
            lead = leadin_of(chunk, unit)
            focus_have = have | self.unit_tokens(row, lead) if lead is not None else have
            before = tuple(sorted(self.context_before(chunk, unit)))
            near = focus_have.union(*(self.unit_tokens(row, j) for j in before))
            title, section = self.context_tokens(row)
            first = opening(chunk, unit)
            under = frozenset(self.unit_tokens(row, first) - title) if first else frozenset()
            if first:
                section = section - (set(content_tokens(section_leaf(chunk.section))) - title) | under
            info = self._units[key] = _UnitInfo(
                bare=bool(BARE_REPLY.match(text)),
                polar=bool(POLAR.search(text)),
                total=bool(TOTAL.search(text)),
                have=have,
                with_title=have | self.context_tokens(row)[0],
                focus_have=focus_have,
                near=near,
                few_words=len(text.split()) < 3,
                leadin=bool(LEADIN.search(text)),
                rate=bool(RATE.search(text)),
                asks=text.rstrip().endswith("?"),
                heading=chunk.units[unit].kind == "heading",
                section=frozenset(section),
                under=under,
                before=before,
                context=tuple(sorted({*before, lead} - {None})),
            )
        return info

    def candidates(
        self, question: Question, vector: np.ndarray, groups: list[list[Hit]], focus_vector: np.ndarray | None = None
    ) -> list[Candidate]:
        """Every unit of the top passages of each entity, scored; ``focus_vector`` is the encoded focus phrase."""
        asked = _Asked.of(question, self._weighted)
        out: list[Candidate] = []
        for g, hits in enumerate(groups):
            for rank, hit in enumerate(hits[: self.config.chunks_considered]):
                semantic, meaning = self._similarities(hit, vector, focus_vector)
                read_in_context = self._in_context(hit, vector, semantic)
                chunk = self.index.chunks[hit.row]
                for n, unit in enumerate(chunk.units):
                    info = self._unit_info(hit.row, n)
                    if info.bare:
                        continue  # quoted only before the sentence it opens (see with_context)
                    typed = self._typed(hit.row, n, question.kind)
                    initials = self._spelled_near(hit.row, n, question.acronyms)
                    values, touched = self._unit_values(
                        asked, info, info.section, initials, typed, hit, rank, n, (semantic, meaning, read_in_context)
                    )
                    score = self.weights.unit_score_of(values)
                    feats = dict(zip(UNIT_FEATURES, values, strict=True))
                    touches = not question.focus or touched or _under_focus(info, asked)
                    out.append(Candidate(hit.row, n, g, score, feats, unit.text, unit.start, unit.end, typed, touches))
        out.sort(key=lambda c: -c.score)
        return out

    def _similarities(self, hit: Hit, vector: np.ndarray, focus_vector: np.ndarray | None) -> tuple[list, list]:
        """Each unit's similarity to the question, and to its focus phrase (the passage's without unit vectors)."""
        index = self.index
        if index.unit_vectors is None:
            semantic = np.full(len(index.chunks[hit.row].units), hit.dense, dtype=np.float32).tolist()
            return semantic, semantic
        units = index.unit_vectors[index.unit_offsets[hit.row] : index.unit_offsets[hit.row + 1]]
        semantic = (units @ vector).tolist()
        return semantic, (units @ focus_vector).tolist() if focus_vector is not None else semantic

    def _in_context(self, hit: Hit, vector: np.ndarray, semantic: list) -> list:
        """Each unit's similarity to the question read with the heading and lead-in it stands under."""
        index = self.index
        if index.context_vectors is None:
            return semantic
        return (index.context_vectors[index.unit_offsets[hit.row] : index.unit_offsets[hit.row + 1]] @ vector).tolist()

    def _unit_values(self, asked, info, section, initials, typed, hit, rank, n, cosines) -> tuple[list, bool]:
        """The features of one unit in the order of UNIT_FEATURES, and whether it touches the focus (or names
        the other side of a yes/no question's contrast). ``cosines``: the passage's units' cosines to the
        question, to its focus phrase, and to the question read in their context (``_in_context``)."""
        semantic, meaning, in_context = cosines
        near = info.near
        conflict = 1.0 if any(t not in near and not o.isdisjoint(near) for t, o in asked.contrasts) else 0.0
        context_weight = self.config.context_weight
        lexical, overlap = _query_coverage(asked.q_tokens, info, section, context_weight)
        focus_score, focus_unit, focus_near, touched = _focus_coverage(
            asked.focus, info, section, initials, context_weight
        )
        values = [
            semantic[n],
            float(hit.dense),
            lexical,
            overlap,
            focus_score,
            focus_unit,
            focus_near,
            1.0 if typed and asked.valued else 0.0,
            1.0 / (1 + rank),
            1.0 if info.few_words and not typed else 0.0,
            1.0 if asked.wants_leadin and info.leadin else 0.0,
            1.0 if not asked.asks_rate and info.rate else 0.0,
            # names the other side of a contrast the question draws ("fall" for a spring question): a conflict
            # for most questions, the answer to a yes/no one ("online?" - "On ground")
            conflict and not asked.yesno,
            conflict and asked.yesno,
            meaning[n],  # the focus phrase's meaning in the unit ("price tag" in a tuition row)
            1.0 if info.asks else 0.0,  # a question itself (an FAQ's question line), rarely an answer
            semantic[n - 1] if n else 0.0,  # the unit before it: an FAQ's question answered by this one
            # the question's meaning in the unit or what sets its context ("Application deadlines" over "Fall: May 1")
            max([semantic[n], *(semantic[j] for j in info.context)]),
            1.0 if asked.yesno and info.polar else 0.0,  # a yes/no question: the unit takes a side
            1.0 if info.heading else 0.0,
            _share_named(asked.condition, info.near),  # names the asker's case ("applicants with a PharmD")
            1.0 if asked.sums and info.total else 0.0,  # a count or a sum asked, and the unit states a whole
            in_context[n],  # the question's meaning in the unit read with its heading and lead-in
        ]
        # The other side of a yes/no question's contrast touches it: "On ground" answers "online?".
        return values, touched or bool(conflict and asked.yesno)

    # --- choice -----------------------------------------------------------------------------
    def choose(self, question: Question, candidates: list[Candidate], n_groups: int) -> list[Candidate]:
        """The best unit (of each entity when the question compares), then close seconds."""
        cfg = self.config
        eligible = [c for c in candidates if is_eligible(c.typed, question.valued) and not self._unanswered(c)]
        if question.earners:
            # Who a pay question is about: the units that name them (or whose passage's title or section does)
            # are quoted before any unit about somebody else.
            phrase = side_by_side(question.earners)
            naming = [c for c in eligible if names_in(self.index, phrase, c)]
            eligible = naming or eligible
        if not eligible:
            return []
        chosen: list[Candidate] = []
        for g in range(n_groups):
            best = next((c for c in eligible if c.group == g), None)
            if best is not None:
                chosen.append(best)
            if not question.compare:
                break
        if question.compare and n_groups == 1:
            # One entity compared within itself: the best unit of another of its documents ("… BLS: nurses or
            # dentists?" names two pages), else a close second from another document.
            first = chosen[0]
            doc = self.index.chunks[first.row].doc_id
            group = question.entities[0] if question.entities else frozenset()

            def other_side(c: Candidate) -> bool:
                other_doc = self.index.chunks[c.row].doc_id
                if other_doc == doc:
                    return False
                return (other_doc in group and c.touches) or self.weights.close_second(first.score, c.score)

            other = next((c for c in eligible if other_side(c)), None)
            if other is not None:
                chosen.append(other)
        best = chosen[0]
        docs = {self.index.chunks[c.row].doc_id for c in chosen}
        length = sum(len(c.text) for c in chosen)
        for cand in eligible[1:]:
            if len(chosen) >= cfg.max_units or not self.weights.close_second(best.score, cand.score):
                break
            if self.index.chunks[cand.row].doc_id not in docs and question.entities:
                continue  # seconds come from the documents of the entity asked about
            if not cand.touches and not self._continues(cand, chosen) and not self._next_row(cand, chosen):
                continue  # a second must touch what is asked about, not only share the answer's kind
            if any(c.row == cand.row and c.unit == cand.unit for c in chosen) or self._redundant(cand, chosen):
                continue
            if length + len(cand.text) > cfg.max_chars:
                continue
            chosen.append(cand)
            length += len(cand.text)
        return self._with_other_side(question, eligible, chosen, docs)

    def _with_other_side(
        self, question: Question, eligible: list[Candidate], chosen: list[Candidate], docs: set[str]
    ) -> list[Candidate]:
        """A yes/no question about one side of a contrast is answered by a row or label/value pair of its
        documents naming the other side ("Program Format: On ground" for "online?"): the best such unit not
        quoted yet is quoted too, close in score or not."""
        sides = [(t, CONTRASTS[t]) for t in question.focus if t in CONTRASTS] if question.kind == "yesno" else []
        if not sides:
            return chosen
        quoted = {(c.row, c.unit) for c in chosen}

        def names_other_side(c: Candidate) -> bool:
            if (c.row, c.unit) in quoted or self.index.chunks[c.row].units[c.unit].kind not in LISTED_KINDS:
                return False
            words = self.unit_tokens(c.row, c.unit)
            return any(t not in words and not other.isdisjoint(words) for t, other in sides)

        other = next((c for c in eligible if self.index.chunks[c.row].doc_id in docs and names_other_side(c)), None)
        return chosen if other is None else [*chosen, other]

    def _continues(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """The unit goes on from a chosen one in the same paragraph ("… is required. However, …")."""
        before = self.paragraph_before(self.index.chunks[cand.row], cand.unit)
        return before is not None and any(c.row == cand.row and c.unit == before for c in chosen)

    def _next_row(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """The row or item next to a chosen one of its kind that does not touch the focus either: rows under a
        heading or sentence that says what they are ("Spring - March 1" beside "Fall - June 5") go together."""
        units = self.index.chunks[cand.row].units
        kind = units[cand.unit].kind
        return kind in LISTED_KINDS and any(
            c.row == cand.row and not c.touches and abs(c.unit - cand.unit) == 1 and units[c.unit].kind == kind
            for c in chosen
        )

    def _redundant(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """The unit says nothing a chosen one does not: no word or figure of its own ("Domestic applicants:
        July 15th" is not a repeat of "Domestic applicants: December 15th")."""
        tokens = self.unit_tokens(cand.row, cand.unit)
        figures = set(FIGURE.findall(cand.text))
        return any(tokens <= self.unit_tokens(c.row, c.unit) and figures <= set(FIGURE.findall(c.text)) for c in chosen)

    # --- context: lead-ins, antecedents -----------------------------------------------------
    def with_context(self, question: Question, chosen: list[Candidate]) -> tuple[list[Candidate], dict[int, int]]:
        """Add what chosen units need to keep their meaning; returns the units and 'N more' per chunk row."""
        cfg = self.config
        out: list[Candidate] = []
        more: dict[int, int] = {}
        chosen = self._list_first(question, chosen)
        have = {(c.row, c.unit) for c in chosen}

        def add(c: Candidate, n: int, row: int | None = None) -> None:
            row = c.row if row is None else row
            if (row, n) in have and (row, n) != (c.row, c.unit):
                return
            u = self.index.chunks[row].units[n]
            have.add((row, n))
            out.append(Candidate(row, n, c.group, c.score, c.feats, u.text, u.start, u.end, c.typed))

        total = sum(len(c.text) for c in chosen)
        for cand in chosen:
            chunk = self.index.chunks[cand.row]
            start = self._list_lead(question, cand)
            if start is not None:
                # A lead-in: quote it with the items it introduces.
                add(cand, start)
                items = self.items_after(cand.row, start)
                used = 0
                # The chosen item first: it is quoted whatever its place in a long list (the others keep theirs).
                for row, j in sorted(items, key=lambda item: item != (cand.row, cand.unit)):
                    text = self.index.chunks[row].units[j].text
                    if total + len(text) > cfg.max_list_chars and used:
                        break
                    add(cand, j, row)
                    total += len(text)
                    used += 1
                if len(items) > used:
                    last = items[-1][0]
                    more[last] = more.get(last, 0) + len(items) - used
                continue
            if PRONOUN_START.match(cand.text) and cand.unit > 0:
                prev = chunk.units[cand.unit - 1]
                if (
                    (cand.row, cand.unit - 1) not in have
                    and total + len(prev.text) <= cfg.max_context_chars
                    and prev.kind == chunk.units[cand.unit].kind
                ):
                    add(cand, cand.unit - 1)
                    total += len(prev.text)
            before = self.paragraph_before(chunk, cand.unit)
            if question.kind == "yesno" and before is not None and BARE_REPLY.match(chunk.units[before].text):
                add(cand, before)  # "Yes. The program is accredited by …"
            add(cand, cand.unit)
            reply = self._reply_to(cand)
            if (
                reply is not None
                and (cand.row, reply) not in have
                and total + len(chunk.units[reply].text) <= cfg.max_context_chars
            ):
                add(cand, reply)  # an FAQ's question line is quoted with the answer under it
                total += len(chunk.units[reply].text)
        return out, more

    def _unanswered(self, cand: Candidate) -> bool:
        """A question line with no answer under it in its passage (a saved page cut off after "Is there a
        language requirement?"): it asks, it does not answer."""
        if not self._unit_info(cand.row, cand.unit).asks:
            return False
        reply = self._reply_to(cand)
        return reply is None or len(self.index.chunks[cand.row].units[reply].text.split()) < 3

    def _reply_to(self, cand: Candidate) -> int | None:
        """The unit that answers a chosen unit which is itself a question (an FAQ's question line), if any."""
        units = self.index.chunks[cand.row].units
        n = cand.unit + 1
        if not self._unit_info(cand.row, cand.unit).asks or n >= len(units):
            return None
        return None if self._unit_info(cand.row, n).asks else n

    def render(self, chosen: list[Candidate], more: dict[int, int] | None = None) -> Answer:
        """Readable order: passages in order of their best unit; within a passage the best unit first, with the
        context it brought (which scores as it does) in document order, then the close seconds; one [n] per
        passage."""
        more = more or {}
        order: list[int] = []
        for c in chosen:
            if c.row not in order:
                order.append(c.row)
        citations: dict[int, Citation] = {}
        parts: list[str] = []
        for row in order:
            units = sorted({c.unit: c for c in chosen if c.row == row}.values(), key=lambda c: (-c.score, c.unit))
            citations[row] = cite = Citation(n=len(citations) + 1, row=row, score=max(c.score for c in units))
            for c in units:
                cite.quote.append((c.start, c.end))
            text = _join(units)
            if more.get(row):
                text += f" (and {more[row]} more in [{cite.n}])"
            parts.append(f"{text} [{cite.n}]")
        return Answer(" ".join(parts), list(citations.values()))


Weighted = tuple[list[tuple[str, float, frozenset[str]]], float]


def _query_coverage(
    weighted: Weighted, info: _UnitInfo, section: set[str], context_weight: float
) -> tuple[float, float]:
    """("lexical", "overlap"): the idf share of the query's words in the unit with its title (a word only in
    the section heading counting ``context_weight``), and in the unit alone. One pass for both."""
    items, total = weighted
    if not items:
        return 1.0, 1.0
    lexical = overlap = 0.0
    have, with_title = info.have, info.with_title
    for _, weight, family in items:
        if not family.isdisjoint(have):
            lexical += weight
            overlap += weight
        elif not family.isdisjoint(with_title):
            lexical += weight
        elif section and not family.isdisjoint(section):
            lexical += weight * context_weight
    return lexical / total, overlap / total


def _share_named(weighted: Weighted, words: frozenset[str]) -> float:
    """The idf share of the weighted words whose family is among ``words`` (0 when there are none)."""
    items, total = weighted
    if not items or not total:
        return 0.0
    return sum(weight for _, weight, family in items if not family.isdisjoint(words)) / total


def _focus_coverage(
    weighted: Weighted,
    info: _UnitInfo,
    section: set[str],
    initials: tuple[set[str], set[str]],
    context_weight: float,
) -> tuple[float, float, float, bool]:
    """("focus", "focus_unit", "focus_near", touched): the idf share of the focus words in the unit with its
    lead-in, in the unit alone, and with its context too (``Composer.context_before``; section-heading words
    counting ``context_weight`` in the first and third); and whether the unit or its lead-in holds any focus
    word. ``initials`` are the question's acronyms spelled out in the unit, and in it or its context."""
    items, total = weighted
    spelled, spelled_near = initials
    if not items:
        return 1.0, 1.0, 1.0, True
    focus = unit = near_got = 0.0
    touched = False
    have, focus_have, near = info.have, info.focus_have, info.near
    for t, weight, family in items:
        if t in spelled or not family.isdisjoint(have):
            focus += weight
            unit += weight
            near_got += weight
            touched = True
        elif not family.isdisjoint(focus_have):
            focus += weight
            near_got += weight
            touched = True
        else:
            in_section = section and not family.isdisjoint(section)
            if t in spelled_near or not family.isdisjoint(near):
                near_got += weight
            elif in_section:
                near_got += weight * context_weight
            if in_section:
                focus += weight * context_weight
    return focus / total, unit / total, near_got / total, touched


def _under_focus(info: _UnitInfo, asked: _Asked) -> bool:
    """The unit stands under a heading of its passage that names a focus word ("Spring 2025" over its
    deadlines, for "And for spring 2025?")."""
    return bool(info.under) and any(not family.isdisjoint(info.under) for _, _, family in asked.focus[0])


def names_in(index: LoadedIndex, phrase: re.Pattern, cand: Candidate) -> bool:
    """The unit, or its passage's title or section, says ``phrase`` (who a pay question is about)."""
    chunk = index.chunks[cand.row]
    return any(phrase.search(text) for text in (cand.text, chunk.title, chunk.section))


def _spelled(acronym: str, initials: list[str]) -> bool:
    n = len(acronym)
    return any("".join(initials[i : i + n]) == acronym for i in range(len(initials) - n + 1))


def _join(units: list[Candidate]) -> str:
    """Units as prose: items after a lead-in or a run of short items joined with "; ", sentences with a space."""
    texts = [" ".join(c.text.split()) for c in units]
    out = texts[0]
    for prev, text in zip(texts, texts[1:], strict=False):
        if prev.endswith(":"):
            out += " " + text
        elif short_line(prev) and short_line(text):
            out = out.rstrip(".") + "; " + text
        else:
            out = (out if END.search(out) else out + ".") + " " + text
    return out if END.search(out) else out + "."


END = re.compile(r"[.!?…:;)]$")


# The code that computes the unit features: the fitted weights are tied to it (``fingerprint.py``).
FEATURE_CODE = (
    _Asked,
    Composer.candidates,
    Composer._similarities,
    Composer._unit_values,
    Composer._unit_info,
    Composer._spelled_near,
    Composer.context_before,
    Composer._in_context,
    _share_named,
    opening,
    leadin_of,
    context_text,
    _query_coverage,
    _focus_coverage,
)
