"""FAISS inner-product indexes over normalised embeddings (inner product == cosine similarity)."""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger(__name__)


def choose_index_type(setting: str, count: int, hnsw_threshold: int) -> str:
    if setting != "auto":
        return setting
    return "hnsw" if count >= hnsw_threshold else "flat"


def build_index(vectors: np.ndarray, index_type: str, *, hnsw_m: int = 32, ef_construction: int = 80) -> faiss.Index:
    """Exact search (flat) for small corpora; HNSW graph for large ones."""
    dim = vectors.shape[1]
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_index(path: Path, *, ef_search: int = 96) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = ef_search
    return index


def restrict(index: faiss.Index, allowed: np.ndarray) -> faiss.SearchParameters:
    """Search parameters that only admit ``allowed`` rows (build once, reuse: making the selector costs more
    than a search of a small index)."""
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
    params = (
        faiss.SearchParametersHNSW(sel=selector)
        if isinstance(index, faiss.IndexHNSW)
        else faiss.SearchParameters(sel=selector)
    )
    params.keep = selector  # the SWIG object does not own the selector: keep it alive with the parameters
    return params


def search(
    index: faiss.Index, query: np.ndarray, k: int, params: faiss.SearchParameters | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows and scores for one query vector, optionally only among the rows ``params`` admit."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
    keep = rows[0] >= 0
    return rows[0][keep], scores[0][keep]
