"""Hybrid retrieval over one index version: dense (FAISS) + BM25, fused, then diversified (MMR)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .store import LoadedIndex
from .vectors import restrict
from .vectors import search as dense_search

RESTRICTIONS_KEPT = 1024  # doc-id sets whose rows and FAISS selector a retriever keeps ready


@dataclass(frozen=True)
class RetrievalConfig:
    """How the two retrievers are combined; defaults tuned on BEIR SciFact train (see README)."""

    mode: str = "hybrid"  # dense | bm25 | hybrid
    fusion: str = "convex"  # convex | rrf
    bm25_weight: float = 0.3  # convex: weight of max-normalised BM25 next to cosine
    rrf_k: int = 60
    pool: int = 100  # candidates taken from each retriever
    mmr_lambda: float = 0.8  # 1.0 disables diversification
    mmr_duplicate: float = 0.95  # cosine above which a candidate counts as a near-copy


@dataclass
class Hit:
    row: int
    score: float
    dense: float
    bm25: float


class Retriever:
    def __init__(self, index: LoadedIndex, config: RetrievalConfig | None = None):
        self.index = index
        self.config = config or RetrievalConfig()
        self._restrictions: dict[tuple[str, ...], tuple[np.ndarray, object]] = {}

    def allowed_rows(self, doc_ids: list[str] | None) -> np.ndarray | None:
        if not doc_ids:
            return None
        rows = [self.index.doc_rows[d] for d in doc_ids if d in self.index.doc_rows]
        return np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)

    def _restriction(self, doc_ids: list[str] | None) -> tuple[np.ndarray | None, object]:
        """The rows of ``doc_ids`` and the FAISS parameters admitting only them, made once per set of documents
        (answers search within the same few documents again and again)."""
        if not doc_ids:
            return None, None
        key = tuple(doc_ids)
        made = self._restrictions.get(key)
        if made is None:
            allowed = self.allowed_rows(doc_ids)
            if len(self._restrictions) >= RESTRICTIONS_KEPT:
                self._restrictions.clear()
            made = self._restrictions[key] = (
                allowed,
                restrict(self.index.faiss_index, allowed) if len(allowed) else None,
            )
        return made

    def search(
        self,
        query: str,
        query_vector: np.ndarray,
        k: int = 10,
        *,
        doc_ids: list[str] | None = None,
        config: RetrievalConfig | None = None,
        boost_docs: dict[str, float] | None = None,
    ) -> list[Hit]:
        cfg = config or self.config
        allowed, params = self._restriction(doc_ids)
        if allowed is not None and len(allowed) == 0:
            return []
        pool = max(cfg.pool, k)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if cfg.mode in ("dense", "hybrid"):
            rows, scores = dense_search(self.index.faiss_index, query_vector, pool, params)
            dense = {int(r): float(s) for r, s in zip(rows, scores, strict=True)}
        bm25 = None
        if cfg.mode in ("bm25", "hybrid"):
            bm25 = self.index.lexical.scores(query)
            ranked_scores = bm25
            if allowed is not None:
                ranked_scores = np.full(bm25.shape, -1.0, dtype=np.float32)
                ranked_scores[allowed] = bm25[allowed]
            top = np.argpartition(-ranked_scores, min(pool, len(bm25) - 1))[:pool] if len(bm25) else []
            lexical = {int(r): float(bm25[r]) for r in top if ranked_scores[r] > 0}
        candidates = set(dense) | set(lexical)
        if not candidates:
            return []
        # Fill in the missing score of each candidate so fusion compares like with like.
        vectors = self.index.chunk_vectors
        if cfg.mode == "hybrid":
            missing = [r for r in candidates if r not in dense]
            if missing:
                sims = np.asarray(vectors[np.asarray(sorted(missing))]) @ query_vector.reshape(-1)
                dense.update({r: float(s) for r, s in zip(sorted(missing), sims, strict=True)})
            if lexical:
                lexical.update({r: float(bm25[r]) for r in candidates if r not in lexical})
        fused = self._fuse(candidates, dense, lexical, cfg)
        if boost_docs:
            for row in fused:
                fused[row] += boost_docs.get(self.index.chunks[row].doc_id, 0.0)
        ranked = sorted(fused, key=lambda r: (-fused[r], r))
        ranked = self._mmr(ranked, fused, k, cfg) if cfg.mmr_lambda < 1.0 else ranked[:k]
        return [Hit(r, fused[r], dense.get(r, 0.0), lexical.get(r, 0.0)) for r in ranked]

    @staticmethod
    def _fuse(candidates, dense, lexical, cfg: RetrievalConfig) -> dict[int, float]:
        if cfg.mode == "dense":
            return {r: dense[r] for r in candidates}
        if cfg.mode == "bm25":
            return {r: lexical[r] for r in candidates}
        if cfg.fusion == "rrf":
            out = dict.fromkeys(candidates, 0.0)
            for scores in (dense, lexical):
                for rank, row in enumerate(sorted(scores, key=lambda r: -scores[r])):
                    out[row] += 1.0 / (cfg.rrf_k + rank + 1)
            return out
        top_bm25 = max(lexical.values(), default=0.0) or 1.0
        return {r: dense.get(r, 0.0) + cfg.bm25_weight * lexical.get(r, 0.0) / top_bm25 for r in candidates}

    def _mmr(self, ranked: list[int], fused: dict[int, float], k: int, cfg: RetrievalConfig) -> list[int]:
        """Maximal marginal relevance over the head of the ranking: no near-copies in the top k."""
        head = ranked[: max(k * 3, 20)]
        vectors = np.asarray(self.index.chunk_vectors[np.asarray(head)])
        sims = vectors @ vectors.T
        scores = np.asarray([fused[r] for r in head])
        span = float(scores.max() - scores.min()) or 1.0
        relevance = (scores - scores.min()) / span
        # Plain Python over at most a few dozen passages: cheaper than a numpy call per pick. ``sims`` holds
        # float32 values; the duplicate threshold is compared at that precision too.
        sims_rows = sims.tolist()
        duplicate = float(np.float32(cfg.mmr_duplicate))
        lam = cfg.mmr_lambda
        relevance_ = relevance.tolist()
        redundancy = [-math.inf] * len(head)  # each passage's highest similarity to a chosen one
        left = list(range(len(head)))
        chosen: list[int] = []
        while left and len(chosen) < k:
            if chosen:
                pick, best = left[0], -math.inf
                for i in left:
                    if redundancy[i] >= duplicate:
                        continue
                    value = lam * relevance_[i] - (1 - lam) * redundancy[i]
                    if value > best:
                        pick, best = i, value
            else:
                pick = left[0]
            chosen.append(pick)
            left.remove(pick)
            row = sims_rows[pick]
            redundancy = [max(r, s) for r, s in zip(redundancy, row, strict=True)]
        return [head[i] for i in chosen]
