"""BM25 over the chunks (bm25s), with one tokeniser shared by indexing and querying."""

from __future__ import annotations

import functools
import logging
import math
import re
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG when imported ("Building index from tokens" on every build): quieted.
logging.getLogger("bm25s").setLevel(logging.WARNING)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# Bump when tokenisation changes: an index built with another tokeniser is rebuilt, not reused.
TOKENIZER_VERSION = 3

# "F-1 visa", "H-1B": a letter joined to a number by a hyphen is one word.
LETTER_NUMBER = re.compile(r"\b([A-Za-z])-(\d\w*)")
# "non-thesis" is also read as one word, "nonthesis", so it differs from "thesis" as the closed form does
# ("nonresident"); its parts stay, so "refundable" still matches "non-refundable".
NEGATED = re.compile(r"\b(non)-([A-Za-z]{2,})\b", re.IGNORECASE)


def _joined(text: str) -> str:
    return NEGATED.sub(r"\1-\2 \1\2", LETTER_NUMBER.sub(r"\1\2", text))


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, English stop words removed, Snowball-stemmed word tokens."""
    texts = [_joined(t) for t in texts]
    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer().stemWords, return_ids=False, show_progress=False)


# bm25s.tokenize's word pattern and English stop words, for one query at a time (below).
WORD = re.compile(r"(?u)\b\w\w+\b")
STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize_query(text: str) -> list[str]:
    """``tokenize`` of one text, without bm25s's set-up per call (progress bars, a vocabulary): the serving path.

    A test holds the two to the same tokens.
    """
    words = [w for w in WORD.findall(_joined(text).lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


class LexicalIndex:
    """A BM25 index whose document numbers are the chunk rows of the index version."""

    def __init__(self, retriever: bm25s.BM25):
        self._retriever = retriever
        self.vocab: dict[str, int] = retriever.vocab_dict or {}

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        tokens = tokenize(texts)
        retriever.index(tokens, show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def idf(self, token: str) -> float:
        """BM25's inverse document frequency of a (stemmed) token; unknown tokens get the highest value."""
        scores = self._retriever.scores
        n = float(scores["num_docs"])
        t = self.vocab.get(token)
        indptr = scores["indptr"]
        df = float(indptr[t + 1] - indptr[t]) if t is not None and t + 1 < len(indptr) else 0.0
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def rows_with(self, token: str) -> np.ndarray:
        """The chunk rows whose text holds this (stemmed) token, read from the BM25 matrix."""
        scores = self._retriever.scores
        t = self.vocab.get(token)
        indptr = scores["indptr"]
        if t is None or t + 1 >= len(indptr):
            return np.zeros(0, dtype=np.int64)
        return np.asarray(scores["indices"][indptr[t] : indptr[t + 1]], dtype=np.int64)

    def known(self, tokens: list[str]) -> list[str]:
        return [t for t in tokens if t in self.vocab]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk row for the query (zeros when no query word is known)."""
        tokens = self.known(tokenize_query(query))
        n = int(self._retriever.scores["num_docs"])
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)
