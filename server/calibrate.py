"""``python -m server calibrate SET.jsonl [SET2.jsonl ...]``: choose the abstention thresholds from data.

For every single-turn question (should be answered) and out-of-scope question (should be refused)
it computes the refusal signals — best passage cosine and share of known words — and sweeps both
thresholds, printing the balanced accuracy of the current settings and of the best grid point.
Names unknown to the corpus are always refused and are reported separately.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from .engine import RETRIEVE_K, QAEngine
from .evaluate import load_set
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    engine = QAEngine(Settings())
    engine.start()
    state = engine.state()
    answerer = state.answerer
    rows = []  # (should_answer, dense, coverage, named)
    for path in args.sets:
        for item in load_set(Path(path)):
            if "turns" in item:
                continue
            question = item["question"]
            vector = engine.embedder.embed([question])[0]
            hits = state.retriever.search(question, vector, k=RETRIEVE_K)
            dense = max((h.dense for h in hits), default=0.0)
            rows.append(
                (
                    not item.get("out_of_scope"),
                    dense,
                    answerer.coverage(question),
                    bool(answerer.unknown_names(question)),
                )
            )
    cfg = answerer.config

    def balanced(min_dense: float, min_cov: float) -> float:
        ok_in = [not named and d >= min_dense and c >= min_cov for a, d, c, named in rows if a]
        ok_out = [named or d < min_dense or c < min_cov for a, d, c, named in rows if not a]
        return (np.mean(ok_in) + np.mean(ok_out)) / 2 if ok_in and ok_out else float("nan")

    grid = [(balanced(d, c), d, c) for d in np.arange(0.2, 0.61, 0.02) for c in np.arange(0.2, 0.91, 0.05)]
    best = max(grid)
    n_in = sum(1 for r in rows if r[0])
    print(f"{n_in} answerable and {len(rows) - n_in} out-of-scope questions")
    print(
        f"unknown names caught: {sum(1 for r in rows if not r[0] and r[3])} out-of-scope, {sum(1 for r in rows if r[0] and r[3])} answerable"
    )
    print(
        f"current  min_dense={cfg.min_dense:.2f} min_coverage={cfg.min_coverage:.2f}: balanced accuracy {balanced(cfg.min_dense, cfg.min_coverage):.3f}"
    )
    plateau = [g for g in grid if g[0] >= best[0] - 1e-9]
    dense_range = (min(g[1] for g in plateau), max(g[1] for g in plateau))
    cov_range = (min(g[2] for g in plateau), max(g[2] for g in plateau))
    print(
        f"best     balanced accuracy {best[0]:.3f} for min_dense in [{dense_range[0]:.2f}, {dense_range[1]:.2f}], "
        f"min_coverage in [{cov_range[0]:.2f}, {cov_range[1]:.2f}]"
    )
    engine.close()
    return 0
