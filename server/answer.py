"""Compose a short answer from the corpus itself: the sentences that answer, each with its citation.

Nothing is generated: every sentence of an answer is a unit (sentence, table row, label/value pair,
list item) of a cited passage. The answer refuses (``answered=False``) when the corpus does not
hold the answer; the thresholds come from ``python -m server calibrate`` (see README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from indexer.lexical import tokenize
from indexer.search import Hit
from indexer.store import LoadedIndex

from .text import COMPARE, WORD, content_tokens, matches_type, question_types

NAME_MARKERS = {
    "at",
    "for",
    "from",
    "in",
    "of",
    "about",
    "to",
    "by",
    "with",
    "does",
    "did",
    "is",
    "was",
    "than",
    "like",
    "and",
    "or",
    "vs",
    "versus",
    "attend",
    "attending",
    "near",
    "visit",
    "who",
}
PRONOUN_START = re.compile(r"^(This|These|That|Those|It|They|Such|However|But|Also|Additionally|Moreover)\b")


@dataclass(frozen=True)
class AnswerConfig:
    chunks_considered: int = 5
    max_units: int = 3
    max_chars: int = 400
    second_unit_ratio: float = 0.88  # a further sentence must score this close to the best one
    weight_semantic: float = 0.55
    weight_passage: float = 0.15
    weight_lexical: float = 0.30
    weight_type: float = 0.12
    weight_rank: float = 0.02
    weight_context: float = 0.25  # a query word found only in the passage's title/section counts this much
    name_mismatch_penalty: float = 0.15  # the question names something this document never mentions
    # Abstention (see calibrate): below these the corpus is taken not to hold the answer.
    min_dense: float = 0.36
    min_coverage: float = 0.5
    min_unit_score: float = 0.30


@dataclass
class Citation:
    n: int
    row: int
    score: float
    quote: list[tuple[int, int]] = field(default_factory=list)  # spans in the chunk text


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation]
    reason: str = ""


@dataclass
class _Candidate:
    row: int
    unit: int
    rank: int
    score: float
    semantic: float
    text: str
    start: int
    end: int


class Answerer:
    def __init__(self, index: LoadedIndex, config: AnswerConfig | None = None):
        self.index = index
        self.config = config or AnswerConfig()
        self._unit_tokens: dict[tuple[int, int], set[str]] = {}
        self._doc_tokens: dict[str, set[str]] = {}
        self._idf = index.lexical.idf

    # --- abstention -----------------------------------------------------------------------
    def coverage(self, question: str) -> float:
        """Share of the question's content words that occur anywhere in the corpus."""
        tokens = list(dict.fromkeys(content_tokens(question)))
        if not tokens:
            return 0.0
        return len(self.index.lexical.known(tokens)) / len(tokens)

    def unknown_names(self, question: str) -> list[str]:
        """Names in the question that appear nowhere in the corpus (another university, a person, a country).

        A capitalised word counts as a name when it is possessive, part of a run of capitalised words,
        or follows a preposition or auxiliary ("tuition at Stanford", "does Harvard"); a capitalised
        adjective ("English tests") does not.
        """
        words = WORD.findall(question)
        unknown = []
        for i, word in enumerate(words):
            bare = re.sub(r"[’']s$", "", word)
            if i == 0 or not bare[:1].isupper() or len(bare) < 2:
                continue
            tokens = content_tokens(bare)
            if not tokens or self.index.lexical.known(tokens):
                continue
            possessive = bare != word
            neighbours = [w for w in (words[i - 1] if i > 1 else "", words[i + 1] if i + 1 < len(words) else "") if w]
            in_run = any(w[:1].isupper() for w in neighbours)
            after_marker = words[i - 1].lower() in NAME_MARKERS
            if possessive or in_run or after_marker or bare.isupper():
                unknown.append(bare)
        return unknown

    def refusal_reason(self, question: str, hits: list[Hit]) -> str:
        cfg = self.config
        if not content_tokens(question):
            return "no content words"
        names = self.unknown_names(question)
        if names:
            return f"not in the documents: {', '.join(names)}"
        if not hits:
            return "no matching passage"
        if max(h.dense for h in hits) < cfg.min_dense:
            return "no passage is close enough"
        if self.coverage(question) < cfg.min_coverage:
            return "most of the question's words are not in the documents"
        return ""

    # --- composition ----------------------------------------------------------------------
    def doc_tokens(self, doc_id: str) -> set[str]:
        if doc_id not in self._doc_tokens:
            rows = self.index.doc_rows.get(doc_id, [])
            texts = [self.index.chunks[int(r)].embed_text() for r in rows]
            self._doc_tokens[doc_id] = {t for tokens in (tokenize(texts) if texts else []) for t in tokens}
        return self._doc_tokens[doc_id]

    @staticmethod
    def named_tokens(question: str) -> set[str]:
        """Tokens of capitalised words after the first: the names a question is about."""
        words = WORD.findall(question)[1:]
        return {t for w in words if w[:1].isupper() and not w.isupper() for t in content_tokens(w)}

    def _tokens(self, row: int, unit: int, text: str) -> set[str]:
        key = (row, unit)
        if key not in self._unit_tokens:
            self._unit_tokens[key] = set(content_tokens(text))
        return self._unit_tokens[key]

    def _candidates(
        self, question: str, lexical_query: str, query_vector: np.ndarray, hits: list[Hit]
    ) -> list[_Candidate]:
        cfg = self.config
        types = question_types(question)
        q_tokens = list(dict.fromkeys(content_tokens(lexical_query)))
        q_weight = sum(self._idf(t) for t in q_tokens) or 1.0
        index = self.index
        names = self.named_tokens(question)
        out: list[_Candidate] = []
        for rank, hit in enumerate(hits[: cfg.chunks_considered]):
            chunk = index.chunks[hit.row]
            title = set(content_tokens(chunk.title))
            mismatch = cfg.name_mismatch_penalty if names - self.doc_tokens(chunk.doc_id) else 0.0
            context = set(content_tokens(chunk.section)) - title
            if index.unit_vectors is not None:
                first, last = index.unit_offsets[hit.row], index.unit_offsets[hit.row + 1]
                semantic = index.unit_vectors[first:last] @ query_vector
            else:
                semantic = np.full(len(chunk.units), hit.dense, dtype=np.float32)
            for n, unit in enumerate(chunk.units):
                tokens = self._tokens(hit.row, n, unit.text)
                # Words naming the document (its title) hold for every sentence of it.
                lexical = (
                    sum(
                        self._idf(t)
                        * (1.0 if t in tokens or t in title else cfg.weight_context if t in context else 0.0)
                        for t in q_tokens
                    )
                    / q_weight
                )
                typed = 1.0 if types and matches_type(unit.text, types) else 0.0
                score = (
                    cfg.weight_semantic * float(semantic[n])
                    + cfg.weight_passage * hit.dense
                    + cfg.weight_lexical * lexical
                    + cfg.weight_type * typed
                    + cfg.weight_rank / (1 + rank)
                    - mismatch
                )
                if len(unit.text.split()) < 3 and not typed:
                    score -= 0.1  # bare labels ("Master's") rarely answer anything
                out.append(_Candidate(hit.row, n, rank, score, float(semantic[n]), unit.text, unit.start, unit.end))
        out.sort(key=lambda c: -c.score)
        return out

    def compose(
        self, question: str, query_vector: np.ndarray, hits: list[Hit], *, lexical_query: str | None = None
    ) -> Answer:
        cfg = self.config
        candidates = self._candidates(question, lexical_query or question, query_vector, hits)
        if not candidates or candidates[0].score < cfg.min_unit_score:
            return Answer("", False, [], reason="no sentence answers the question")
        best = candidates[0]
        chosen = [best]
        compare = bool(COMPARE.search(question))
        if compare:
            other = next(
                (
                    c
                    for c in candidates[1:]
                    if self.index.chunks[c.row].doc_id != self.index.chunks[best.row].doc_id
                    and c.score >= best.score * 0.7
                ),
                None,
            ) or next((c for c in candidates[1:] if c.row != best.row and c.score >= best.score * 0.75), None)
            if other is not None:
                chosen.append(other)
        length = sum(len(c.text) for c in chosen)
        for cand in candidates[1:]:
            if len(chosen) >= cfg.max_units or cand.score < best.score * cfg.second_unit_ratio:
                break
            if any(c.row == cand.row and c.unit == cand.unit for c in chosen) or self._redundant(cand, chosen):
                continue
            if length + len(cand.text) > cfg.max_chars:
                continue
            chosen.append(cand)
            length += len(cand.text)
        chosen = self._with_antecedents(chosen)
        return self._render(chosen)

    def _redundant(self, cand: _Candidate, chosen: list[_Candidate]) -> bool:
        tokens = self._tokens(cand.row, cand.unit, cand.text)
        for c in chosen:
            other = self._tokens(c.row, c.unit, c.text)
            if tokens and len(tokens & other) / len(tokens) > 0.7:
                return True
        return False

    def _with_antecedents(self, chosen: list[_Candidate]) -> list[_Candidate]:
        """A sentence that opens with "This"/"It" is quoted with the sentence before it."""
        out: list[_Candidate] = []
        total = sum(len(c.text) for c in chosen)
        for cand in chosen:
            chunk = self.index.chunks[cand.row]
            if PRONOUN_START.match(cand.text) and cand.unit > 0:
                prev = chunk.units[cand.unit - 1]
                already = any(c.row == cand.row and c.unit == cand.unit - 1 for c in chosen + out)
                if (
                    not already
                    and total + len(prev.text) <= self.config.max_chars + 150
                    and prev.kind == chunk.units[cand.unit].kind
                ):
                    out.append(
                        _Candidate(
                            cand.row,
                            cand.unit - 1,
                            cand.rank,
                            cand.score,
                            cand.semantic,
                            prev.text,
                            prev.start,
                            prev.end,
                        )
                    )
                    total += len(prev.text)
            out.append(cand)
        return out

    def _render(self, chosen: list[_Candidate]) -> Answer:
        # Readable order: passages in order of their best sentence, sentences in document order.
        order: list[int] = []
        for c in chosen:
            if c.row not in order:
                order.append(c.row)
        citations: dict[int, Citation] = {}
        parts: list[str] = []
        for row in order:
            units = sorted((c for c in chosen if c.row == row), key=lambda c: c.unit)
            if row not in citations:
                citations[row] = Citation(n=len(citations) + 1, row=row, score=max(c.score for c in units))
            cite = citations[row]
            for c in units:
                cite.quote.append((c.start, c.end))
            sentences = " ".join(_sentence(c.text) for c in units)
            parts.append(f"{sentences} [{cite.n}]")
        return Answer(" ".join(parts), True, list(citations.values()))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if re.search(r"[.!?…:)]$", text) else text + "."
