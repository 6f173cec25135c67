"""Index types at scale: exact (flat) against HNSW on synthetic corpora of 100k and 1M chunks.

    python bench/scale.py [--sizes 100000 1000000] [--queries 200]

Vectors are synthetic, not text: 384-d unit vectors drawn around 2,000 random cluster centres (a
mixture, like real embeddings of many documents, harder than copies and easier than pure noise).
Queries are fresh draws from the same mixture. Reports build time, size on disk and in memory,
search p50/p99 for one query, and recall@10 of HNSW against exact search, for the settings the
indexer uses (M = 32, efConstruction = 80, efSearch = 96).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.vectors import build_index, load_index, save_index, search  # noqa: E402

DIM = 384


def mixture(n: int, centres: np.ndarray, rng: np.random.Generator, spread: float = 0.6) -> np.ndarray:
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        picks = centres[rng.integers(0, len(centres), m)]
        block = picks + spread * rng.standard_normal((m, DIM)).astype(np.float32) / np.sqrt(DIM)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json-out", type=Path, default=Path(__file__).resolve().parent / "results" / "scale.json")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((2000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = []
    for n in args.sizes:
        vectors = mixture(n, centres, rng)
        queries = mixture(args.queries, centres, rng)
        truth = {}
        for kind in ("flat", "hnsw"):
            before = rss_mb()
            started = time.perf_counter()
            index = build_index(vectors, kind)
            build_s = time.perf_counter() - started
            memory = rss_mb() - before
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "v.faiss"
                save_index(index, path)
                disk = path.stat().st_size / 1e6
                index = load_index(path, ef_search=96)
            times, recalls = [], []
            for i, q in enumerate(queries):
                t = time.perf_counter()
                found, _ = search(index, q, 10)
                times.append((time.perf_counter() - t) * 1000)
                if kind == "flat":
                    truth[i] = set(found.tolist())
                else:
                    recalls.append(len(truth[i] & set(found.tolist())) / 10)
            times.sort()
            row = {
                "chunks": n,
                "index": kind,
                "build_s": round(build_s, 1),
                "disk_mb": round(disk, 1),
                "memory_mb": round(memory, 1),
                "search_ms_p50": round(times[len(times) // 2], 3),
                "search_ms_p99": round(times[int(len(times) * 0.99) - 1], 3),
                "recall_at_10": round(float(np.mean(recalls)), 4) if recalls else 1.0,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            del index
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
