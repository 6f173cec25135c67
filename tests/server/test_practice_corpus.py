"""The real model over pages the answering was not written for: corpus/ plus shared/eval/practice/corpus.

Floors a few points under what was measured on 2026-11-22 (practice set: answer 0.923, hit@5 1.0,
abstention 1.0, turns 0.964, 8 of 9 conversations whole) and on 2026-12-01 with the weights fitted on the
training pools too (answer 0.846, abstention 0.917, turns 0.929, 7 of 9 whole). The conversations below are our own: each turn is checked by the
document it cites and the figure it states, across entity and attribute switches.
"""

import re
from pathlib import Path

import pytest

from server.evaluate import InProcess, evaluate, load_set
from tests.conftest import engine_over

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PRACTICE = ROOT.parent / "shared" / "eval" / "practice"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, real_embedder):
    if not (PRACTICE / "corpus").is_dir():
        pytest.fail(f"{PRACTICE} is missing: CI runs with shared/ beside the project")
    engine = engine_over(tmp_path_factory.mktemp("practice"), PRACTICE / "corpus", real_embedder)
    yield engine
    engine.close()


def test_practice_set_floors(engine):
    figures, fails = evaluate(load_set(PRACTICE / "questions.jsonl"), InProcess(engine))
    assert figures["answer_accuracy"] >= 0.82, fails
    assert figures["hit_at_5"] >= 0.95, fails
    assert figures["abstention_accuracy"] >= 0.9, fails
    assert figures["turn_accuracy"] >= 0.9, fails
    assert figures["median_answer_chars"] <= 300


CONVERSATIONS = {
    "entity switch and return": [
        ("How many credits does Oregon State's robotics MS require?", "oregon-state-robotics-ms", r"\b45\b"),
        ("And the University of Minnesota's?", "umn-robotics", r"\b31\b"),
        ("Going back to Oregon State: how many thesis credits are there?", "oregon-state-robotics-ms", r"\b12\b"),
    ],
    "attribute switch on one school": [
        (
            "What TOEFL iBT minimum does Kent State set for computer science master's applicants?",
            "kent-state",
            r"\b71\b",
        ),
        ("And the Duolingo score?", "kent-state", r"\b100\b"),
    ],
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_own_conversations(engine, name):
    session = None
    for message, doc, figure in CONVERSATIONS[name]:
        result = engine.chat(message, session)
        session = result.session_id
        assert result.answered, (message, result.answer)
        assert re.search(figure, result.answer), (message, result.query, result.answer)
        cited = [c["doc_id"] for c in result.citations if f"[{c['n']}]" in result.answer]
        assert any(d.startswith(doc) for d in cited), (message, cited)
        assert "(" not in result.query or ")" in message  # a readable query, no bracketed word lists


def test_a_question_the_pages_do_not_answer_is_refused_naming_the_school(engine):
    result = engine.chat("What is the acceptance rate for Oregon State's robotics master's?")
    assert not result.answered and "Oregon State University" in result.answer and "They cover" in result.answer


def test_suggested_questions_are_a_students_and_each_is_answered_from_its_page(engine):
    suggestions = engine.check_suggestions(engine.state())
    assert len(suggestions) >= 5
    assert not any("“" in q or "say about" in q for q in suggestions)
    assert len({q.split()[0] for q in suggestions}) >= 3  # varied: how much, is the GRE, when, what, ...
    for question in suggestions:
        result = engine.chat(question)
        assert result.answered and result.citations, question


def test_search_puts_the_named_entitys_passages_first(engine):
    results = engine.search("Which courses does Boston University's robotics master's require?", k=6)
    docs = [r["doc_id"] for r in results]
    named = [d for d in docs if d.startswith("boston-university")]
    assert named and docs[: len(named)] == named  # BU's passages lead, the rest of the corpus follows
    assert len(results) == 6
