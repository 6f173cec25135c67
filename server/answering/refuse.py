"""Typed answerability: answer only when the entity's passages hold a unit of the asked kind that covers the focus.

The order of checks: no content words; a name the corpus never uses as the question's subject, or who a
pay question is about never named in the pages ("urban planners"); nothing retrieved; a question far from
every passage (similarity floor); a valued question (a date, an amount, a score…) with no unit holding
such a value; then the fitted answer-or-refuse model on the best unit's features. A refusal says what the documents do cover for the entity asked about.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.chunking import section_leaf
from indexer.search import Hit
from indexer.store import LoadedIndex

from .compose import Candidate, is_eligible, names_in
from .entities import CorpusTerms
from .names import LooseNames
from .question import Question, content_tokens, focus_words, side_by_side
from .weights import Weights

KIND_NAMES = {
    "money": "an amount",
    "percent": "a percentage",
    "amount": "an amount or a percentage",
    "date": "a date",
    "duration": "a duration",
    "score": "a score or figure",
    "count": "a number",
    "measure": "a size or other measure",
    "person": "a person's name",
    "place": "a place",
}


@dataclass(frozen=True)
class Refusal:
    reason: str  # for logs and metrics
    message: str  # for the user: what is missing
    covers: str | None = None  # the sections of the documents asked about; None: the corpus is named instead

    def text(self, corpus_covers: str) -> str:
        """The whole refusal for the user (built here only): what is missing, then what the documents cover."""
        if self.covers:
            return f"{self.message} They cover: {self.covers}."
        return f"{self.message} They cover {corpus_covers}."


def decision_features(
    dense: float,
    best: dict[str, float] | None,
    best_score: float,
    eligible: list[dict[str, float]],
    doc_focus: float,
    doc_missing: float,
    acronym_missing: float = 0.0,
) -> dict[str, float]:
    """What the answer-or-refuse model reads: retrieval, the chosen unit, and the best evidence of the asked kind.

    ``best`` and ``eligible`` are unit features (``Candidate.feats``); calibrate builds the same rows offline.
    """
    return {
        "dense": dense,
        "score": best_score if best else 0.0,
        "focus": best["focus"] if best else 0.0,
        "semantic": best["semantic"] if best else 0.0,
        "doc_focus": doc_focus,
        "doc_missing": doc_missing,  # the most specific word asked about is nowhere in the entity's pages
        "doc_gap": 1.0 if doc_focus < 0.999 else 0.0,  # some word asked about is nowhere in them
        # a focus word written in capitals ("TOEFL", "PCAT") is nowhere in them, nor spelled out
        "acronym_missing": acronym_missing,
        "max_focus": max((f["focus"] for f in eligible), default=0.0),
        "max_semantic": max((f["semantic"] for f in eligible), default=0.0),
        "focus_semantic": best["focus_semantic"] if best else 0.0,
        "max_focus_semantic": max((f["focus_semantic"] for f in eligible), default=0.0),
        # the focus in the unit's context: a date row under the heading or sentence that says what it dates
        "focus_near": best["focus_near"] if best else 0.0,
        "near_semantic": best["near_semantic"] if best else 0.0,  # its meaning with its context's
        "condition": best["condition"] if best else 0.0,  # it names the asker's case ("already have a master's")
    }


class Refuser:
    def __init__(self, index: LoadedIndex, weights: Weights, terms: CorpusTerms, names: LooseNames | None = None):
        self.index = index
        self._names = names or LooseNames(index.documents, lambda word: False)
        self.weights = weights
        self._terms = terms
        self._idf = index.lexical.idf

    def doc_focus(self, question: Question, hits: list[Hit]) -> tuple[float, float, float]:
        """Share (idf-weighted) of the focus words found anywhere in the entity's documents; 1.0 when the most
        specific of them (highest idf) is not found; 1.0 when one written in capitals is not found."""
        if not question.focus:
            return 1.0, 0.0, 0.0
        docs = set(question.doc_ids) or {self.index.chunks[h.row].doc_id for h in hits[:5]}

        def found(t: str) -> bool:
            if self._terms.used_in(t, docs):
                return True
            return t in question.acronyms and any(self._terms.spells_out(d, t) for d in docs)

        present = {t for t in question.focus if found(t)}
        total = sum(self._idf(t) for t in question.focus) or 1.0
        rarest = max(question.focus, key=self._idf)
        acronym_missing = any(t in question.acronyms and t not in present for t in question.focus)
        return sum(self._idf(t) for t in present) / total, 0.0 if rarest in present else 1.0, float(acronym_missing)

    def before_retrieval(self, question: Question) -> Refusal | None:
        if not question.tokens:
            return Refusal("no content words", "I need a question with a few more words to search the documents.")
        unknown = question.unknown_subjects
        if question.earners and not self.mentioned(question.earners):
            unknown = [*unknown, " ".join(question.earners)]
        missing = [p for p in question.programs if question.doc_ids and not self.mentioned(p.split(), question.doc_ids)]
        if missing and not unknown:
            # "Kenmore's MS in Marine Biology" where no Kenmore page says "Marine Biology".
            subject, covers = self._subject(question)
            text = f"The documents on {subject} don't mention {' or '.join(missing)}."
            return Refusal(f"program not in the documents: {', '.join(missing)}", text, covers)
        if unknown:
            names = ", ".join(unknown)
            text = f"The documents I have don't mention {names}."
            titles = {d["doc_id"]: d["title"] for d in self.index.documents}
            near = [titles[d] for name in unknown for d in self._names.near(name) if d in titles]
            if near:
                text += " Did you mean " + " or ".join(f"“{t}”" for t in dict.fromkeys(near[:3])) + "?"
            return Refusal(f"not in the documents: {names}", text)
        return None

    def mentioned(self, words: tuple[str, ...] | list[str], docs: frozenset[str] | None = None) -> bool:
        """Whether some passage or title (of ``docs``, when given) names these words side by side ("urban
        planners" is not named by "urban planning agencies"; a plural or singular counts)."""
        tokens = [t for w in words for t in content_tokens(w)]
        rows = None
        for t in set(tokens):
            found = set(self.index.lexical.rows_with(t).tolist())
            rows = found if rows is None else rows & found
        phrase = side_by_side(tuple(words))
        chunks = (self.index.chunks[r] for r in rows or ())
        if any(phrase.search(c.text) for c in chunks if docs is None or c.doc_id in docs):
            return True
        return any(phrase.search(d["title"]) for d in self.index.documents if docs is None or d["doc_id"] in docs)

    def after_composition(
        self, question: Question, hits: list[Hit], candidates: list[Candidate], chosen: list[Candidate]
    ) -> tuple[Refusal | None, dict[str, float]]:
        if not hits:
            return Refusal("no matching passage", *self._missing(question)), {}
        eligible = [c.feats for c in candidates if is_eligible(c.typed, question.valued)]
        best = chosen[0] if chosen else None
        feats = decision_features(
            max((h.dense for h in hits), default=0.0),
            best.feats if best else None,
            best.score if best else 0.0,
            eligible,
            *self.doc_focus(question, hits),
        )
        if feats["dense"] < self.weights.min_dense:
            return Refusal("no passage is close enough", *self._missing(question)), feats
        if not chosen:
            what = KIND_NAMES.get(question.kind, "an answer")
            return Refusal(f"no unit states {what}", *self._missing(question)), feats
        # A page naming "occupational therapists" among related jobs does not give their pay.
        if question.earners and not any(names_in(self.index, side_by_side(question.earners), c) for c in chosen):
            who = " ".join(question.earners)
            return Refusal(
                f"the answer is not about {who}",
                f"The documents I have don't state the {question.asked_of_earners} of {who}.",
            ), feats
        p = self.weights.answer_probability(feats)
        feats["p_answer"] = p
        if not self.weights.answers(p):
            return Refusal(f"answer probability {p:.2f}", *self._missing(question)), feats
        return None, feats

    def _subject(self, question: Question) -> tuple[str, str | None]:
        """The titles of the documents asked about, as a refusal names them, and their sections (what they cover)."""
        docs = sorted(question.doc_ids)
        titles = [d["title"] for d in self.index.documents if d["doc_id"] in docs]
        sections: list[str] = []
        for d in docs:
            for row in self.index.doc_rows.get(d, []):
                head = section_leaf(self.index.chunks[int(row)].section)
                if head and head not in sections and len(head) <= 60:
                    sections.append(head)
        subject = " and ".join(f"“{t}”" for t in titles[:2]) + (
            f" and {len(titles) - 2} more" if len(titles) > 2 else ""
        )
        return subject, ", ".join(sections[:6]) or None

    def _missing(self, question: Question) -> tuple[str, str | None]:
        """ "The pages on X don't state Y", and the sections of X (what they cover) when it names X."""
        if not question.doc_ids:
            return "I couldn't find an answer to that in the documents I have.", None
        subject, covers = self._subject(question)
        what = KIND_NAMES.get(question.kind)
        words = focus_words(question.text, question.focus)
        if what and words:
            asked = f" (the question asks for {what}: “{words}”)"
        elif words or what:
            asked = f" (the question asks about “{words}”)" if words else f" (the question asks for {what})"
        else:
            asked = ""
        return f"The documents on {subject} don't state that{asked}.", covers


# The code that computes the decision features: the fitted weights are tied to it (``fingerprint.py``).
FEATURE_CODE = (decision_features,)
