"""Maximal marginal relevance: the plain-Python loop picks what the numpy formula it replaced picks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from indexer.search import RetrievalConfig, Retriever


def reference(vectors: np.ndarray, ranked: list[int], fused: dict[int, float], k: int, cfg) -> list[int]:
    """MMR written with numpy over the whole head, as the retriever computed it before."""
    head = ranked[: max(k * 3, 20)]
    v = vectors[np.asarray(head)]
    sims = v @ v.T
    scores = np.asarray([fused[r] for r in head])
    relevance = (scores - scores.min()) / (float(scores.max() - scores.min()) or 1.0)
    chosen: list[int] = []
    left = list(range(len(head)))
    while left and len(chosen) < k:
        if chosen:
            redundancy = sims[np.ix_(left, chosen)].max(axis=1)
            value = cfg.mmr_lambda * relevance[left] - (1 - cfg.mmr_lambda) * redundancy
            value = np.where(redundancy >= cfg.mmr_duplicate, -np.inf, value)
            pick = left[int(np.argmax(value))]
        else:
            pick = left[0]
        chosen.append(pick)
        left.remove(pick)
    return [head[i] for i in chosen]


def retriever(vectors: np.ndarray) -> Retriever:
    r = Retriever.__new__(Retriever)
    r.index = SimpleNamespace(chunk_vectors=vectors)
    return r


def test_mmr_matches_the_numpy_formula_on_random_rankings():
    rng = np.random.default_rng(7)
    cfg = RetrievalConfig()
    for trial in range(200):
        n = int(rng.integers(1, 40))
        vectors = rng.normal(size=(n, 16)).astype(np.float32)
        if trial % 3 == 0:  # near-copies: some rows almost equal to others
            copies = rng.integers(0, n, size=n // 2)
            vectors[: len(copies)] = vectors[copies] + rng.normal(scale=0.01, size=(len(copies), 16))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        fused = {r: float(s) for r, s in enumerate(rng.random(n))}
        ranked = sorted(fused, key=lambda r: (-fused[r], r))
        k = int(rng.integers(1, 12))
        assert retriever(vectors)._mmr(ranked, fused, k, cfg) == reference(vectors, ranked, fused, k, cfg)


def test_a_near_copy_is_not_chosen_while_others_are_left():
    a = np.asarray([1.0, 0.0, 0.0], dtype=np.float32)
    b = np.asarray([0.0, 1.0, 0.0], dtype=np.float32)
    vectors = np.stack([a, a, b])  # row 1 copies row 0
    fused = {0: 1.0, 1: 0.99, 2: 0.5}
    assert retriever(vectors)._mmr([0, 1, 2], fused, 2, RetrievalConfig()) == [0, 2]
