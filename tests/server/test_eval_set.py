"""Question sets scored in-process with the rules of shared/eval/chat_eval.py; floors a few points under measured.

Measured on 2026-11-22 (README, "Measured figures"): dev answer 0.968, abstention 1.0, turns 1.0; own set
answer 0.947, abstention 1.0, turns 1.0. On 2026-12-01, with the weights fitted on the training pools too
(answering on pages never seen rose from 0.55-0.63 to 0.69-0.77; README), dev answer 0.903 (28 of 31), own
set unchanged in its floors. Later that day (a unit's context, up to four close units quoted) dev 0.935.
"""

import re
from pathlib import Path

import pytest

from server.answering.engine import QAEngine
from server.evaluate import InProcess, evaluate, load_set

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def engine(server_settings, tmp_path_factory):
    made = QAEngine(server_settings(tmp_path_factory.mktemp("eval")))
    made.start()
    yield made
    made.close()


@pytest.fixture(scope="module")
def post(engine):
    return InProcess(engine)


@pytest.mark.parametrize("opening", ["Is the GRE required?", "Is the GRE required at Northeastern?"])
def test_follow_ups_after_a_gre_answer_answer_their_own_kind(engine, opening):
    # A newcomer's exchange (issue 19): the follow-ups once got the GRE sentence again.
    first = engine.chat(opening)
    assert first.answered and "GRE" in first.answer
    deadline = engine.chat("When's the application deadline?", first.session_id)
    assert "GRE" not in deadline.answer
    assert not deadline.answered or re.search(r"(June|July|August|December) \d", deadline.answer)
    length = engine.chat("And how many years is it?", first.session_id)
    assert "GRE" not in length.answer
    assert not length.answered or re.search(r"\b(2|two) Year", length.answer, re.I)


@pytest.mark.parametrize(
    "message",
    ["Can I take the Northeastern master's online?", "Is Northeastern's manufacturing degree offered online?"],
)
def test_a_format_question_is_answered_with_the_format_or_refused(engine, message):
    # A newcomer's exchange (issue 19): "online?" was answered with "Completed online application form" alone,
    # while the page's format row says "On ground" (found now by searching the other side of the contrast).
    result = engine.chat(message)
    assert not result.answered or "On ground" in result.answer


def test_own_question_set(post):
    items = load_set(HERE / "eval" / "questions.jsonl")
    assert len(items) >= 40
    figures, fails = evaluate(items, post)
    assert figures["answer_accuracy"] >= 0.9, fails
    assert figures["hit_at_5"] >= 0.95, fails
    assert figures["abstention_accuracy"] >= 0.9, fails
    assert figures["turn_accuracy"] >= 0.9, fails
    # Short answers: the quote budget (``ComposeConfig``) is 600 characters, close seconds included; how many
    # close seconds is fitted (the margin), and at 3.0 logits this set's median answer is 472 characters.
    assert figures["median_answer_chars"] <= 500


def test_shared_dev_set(post):
    dev = HERE.parent.parent / "shared" / "eval" / "dev.jsonl"
    if not dev.is_file():
        pytest.fail(f"{dev} is missing: CI runs with shared/ beside the project")
    figures, fails = evaluate(load_set(dev), post)
    assert figures["answer_accuracy"] >= 0.87, fails
    assert figures["hit_at_5"] >= 0.95, fails
    assert figures["abstention_accuracy"] >= 0.99, fails
    assert figures["turn_accuracy"] >= 0.9, fails
    # Short answers: the quote budget (``ComposeConfig``) is 600 characters, close seconds included.
    assert figures["median_answer_chars"] <= 450
