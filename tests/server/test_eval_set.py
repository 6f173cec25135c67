"""The project's own question set, scored in-process with the same rules as shared/eval/chat_eval.py."""

from pathlib import Path

import pytest

from server.answering.engine import QAEngine
from server.evaluate import InProcess, evaluate, load_set

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def post(server_settings, tmp_path_factory):
    engine = QAEngine(server_settings(tmp_path_factory.mktemp("eval")))
    engine.start()
    yield InProcess(engine)
    engine.close()


def test_own_question_set(post):
    items = load_set(HERE / "eval" / "questions.jsonl")
    assert len(items) >= 40
    figures, fails = evaluate(items, post)
    assert figures["answer_accuracy"] >= 0.8, fails
    assert figures["hit_at_5"] >= 0.95, fails
    assert figures["abstention_accuracy"] >= 0.9, fails
    assert figures["turn_accuracy"] >= 0.6, fails
    assert figures["median_answer_chars"] <= 400


def test_shared_dev_set(post):
    dev = HERE.parent.parent / "shared" / "eval" / "dev.jsonl"
    if not dev.is_file():
        pytest.fail(f"{dev} is missing: CI runs with shared/ beside the project")
    figures, fails = evaluate(load_set(dev), post)
    assert figures["answer_accuracy"] >= 0.85, fails
    assert figures["hit_at_5"] >= 0.95, fails
    assert figures["abstention_accuracy"] >= 0.8, fails
    assert figures["turn_accuracy"] >= 0.8, fails
    assert figures["median_answer_chars"] <= 400
