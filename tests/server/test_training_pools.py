"""The three training pools of real pages (../shared/eval/train), scored in-process with the rules of
chat_eval.py over corpus/ plus each pool's pages: floors a few points under what was measured on 2026-12-01
(README, "Answers on real pages"), so that a change that loses what the pools taught shows at once.

engineering answer 0.687, refusal 0.762, turns 0.851; business-health-education 0.778, 0.850, 0.788;
sciences-arts-law 0.765, 0.905, 0.833 (weights fitted on all visible sets; the held-out figures, from fits
that left each pool out, are in the README).
"""

from pathlib import Path

import pytest

from server.evaluate import InProcess, evaluate, load_set
from tests.conftest import engine_over

pytestmark = pytest.mark.integration
TRAIN = Path(__file__).resolve().parents[3] / "shared" / "eval" / "train"


@pytest.mark.parametrize(
    ("pool", "answer", "refusal", "turns"),
    [
        ("engineering", 0.65, 0.71, 0.8),
        ("business-health-education", 0.74, 0.8, 0.74),
        ("sciences-arts-law", 0.72, 0.85, 0.78),
    ],
)
def test_training_pool_floors(tmp_path, real_embedder, pool, answer, refusal, turns):
    if not (TRAIN / pool / "corpus").is_dir():
        pytest.fail(f"{TRAIN / pool} is missing: CI runs with shared/ beside the project")
    engine = engine_over(tmp_path, TRAIN / pool / "corpus", real_embedder)
    try:
        figures, fails = evaluate(load_set(TRAIN / pool / "questions.jsonl"), InProcess(engine))
    finally:
        engine.close()
    assert figures["answer_accuracy"] >= answer, fails
    assert figures["abstention_accuracy"] >= refusal, fails
    assert figures["turn_accuracy"] >= turns, fails
