"""The ONNX encoder's cost model: one call costs a fixed part (every weight streamed once) plus a part per
padded token. Prints both, fitted by least squares on batches of 1-16 texts of 8-64 tokens, on one core and on
every core, and their ratio: ``indexer.onnx_model.CALL_TOKENS`` (how ``plan_batches`` splits a batch)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from indexer.encoders import make_embedder
    from indexer.onnx_model import CALL_TOKENS, plan_batches
    from indexer.settings import IndexSettings

    embedder = make_embedder(IndexSettings(_env_file=None).model_copy(update={"encoder": "onnx"}))
    embedder.load()
    if embedder.backend != "onnx":
        print("the ONNX encoder is unavailable here")
        return 1
    embedder.open_single_thread()
    count = embedder.token_count
    for single in (True, False):
        rows, times = [], []
        for width in (8, 12, 16, 24, 32, 64):
            text = " ".join(["word"] * (width - 2))  # [CLS] + width-2 words + [SEP]
            assert count(text) == width
            for size in (1, 2, 4, 8, 16):
                if size * width > embedder.token_budget:
                    continue
                assert plan_batches([width] * size, most=64, budget=embedder.token_budget) == [range(size)]
                taken = []
                for _ in range(15):
                    started = time.perf_counter()
                    embedder.embed([text] * size, single_thread=single)
                    taken.append((time.perf_counter() - started) * 1000)
                rows.append([1.0, size * width])
                times.append(statistics.median(taken))
        (call_ms, token_ms), *_ = np.linalg.lstsq(np.asarray(rows), np.asarray(times), rcond=None)
        where = "one core" if single else f"{embedder.threads} cores"
        print(f"{where}: {call_ms:.2f} ms a call + {token_ms:.3f} ms a padded token = {call_ms / token_ms:.1f} tokens")
    print(f"in use: CALL_TOKENS = {CALL_TOKENS} (serving under load encodes on one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
