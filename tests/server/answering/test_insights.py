"""The owners' insights over a real SQLite store: turn numbers, ratings, what is kept, for how long, and how the
misses are grouped. The encoder is the fast word-hashing fake; sorting by meaning with the real model is
tested in tests/server/test_insights_api.py."""

import json
import sqlite3
import time

import pytest

from server.answering.facts import Fact, FactCatalogue
from server.answering.insights import Insights
from server.answering.sessions import SessionStore, Turn
from server.errors import NotFound

CATALOGUE = FactCatalogue(
    [
        Fact("cost", "Tuition or cost", "How much is the tuition?", ("what are the fees",), "program"),
        Fact("deadline", "Application deadline", "When is the application deadline?", ("when to apply",), "program"),
        Fact("pay", "Pay", "What is the median pay?", ("how much do they earn",), "career"),
    ],
    {"program": "a degree program page", "career": "an occupation page"},
    "test",
)


def turn(message: str, answered: bool, *, asked=(), unknown=(), cited=()) -> Turn:
    t = Turn(message, message, "", "an answer" if answered else "a refusal", answered, list(cited))
    t.reason = None if answered else "no unit states it"
    t.asked, t.unknown = list(asked), list(unknown)
    return t


@pytest.fixture
def store(tmp_path):
    s = SessionStore(tmp_path / "s.sqlite", record_questions=True)
    yield s
    s.close()


@pytest.fixture
def insights(store, fake_embedder):
    return Insights(store, CATALOGUE, fake_embedder.embed)


def rows(store: SessionStore, table: str) -> list:
    store.flush()
    with sqlite3.connect(store.path) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


def test_turns_are_numbered_in_their_session(store):
    assert store.append("a", turn("first", True), new=True) == 1
    assert store.append("a", turn("second", True)) == 2
    store.flush()
    assert store.append("a", turn("third", True)) == 3  # counted from the store once committed
    assert store.append("b", turn("other", True), new=True) == 1
    assert store.turns("a") == 3 and store.turns("nope") == 0


def test_a_rating_names_a_turn_that_exists(store, insights):
    store.append("a", turn("q1", True), new=True)
    store.append("a", turn("q2", True))
    with pytest.raises(NotFound, match="not found"):
        insights.rate("zzz", 1, "up")
    with pytest.raises(NotFound, match="has no turn 3"):
        insights.rate("a", 3, "up")
    with pytest.raises(NotFound, match="has no turn 0"):
        insights.rate("a", 0, "down")
    insights.rate("a", 2, "up")
    insights.rate("a", 2, "down", "outdated")  # a second rating of a turn replaces the first
    assert [(r[1], r[3], r[4]) for r in rows(store, "feedback")] == [(2, "down", "outdated")]
    assert insights.feedback_counts(1) == {
        "up": 0,
        "down": 1,
        "reasons": {"wrong_figure": 0, "wrong_school": 0, "not_asked": 0, "outdated": 1},
    }


def test_only_the_message_text_is_kept_and_nothing_when_insights_are_off(tmp_path, fake_embedder):
    on = SessionStore(tmp_path / "on.sqlite", record_questions=True)
    on.append("s", turn("What does it cost?", False, asked=["doc-a"]), new=True)
    (row,) = rows(on, "asked")
    assert row[0] == "s" and row[1] == 1 and row[3] == "What does it cost?"
    assert row[5] == 0 and json.loads(row[7]) == ["doc-a"]
    off = SessionStore(tmp_path / "off.sqlite", record_questions=False)
    off_insights = Insights(off, CATALOGUE, fake_embedder.embed, enabled=False)
    off.append("s", turn("What does it cost?", False), new=True)
    off_insights.rate("s", 1, "down")  # accepted (the turn exists), not kept
    assert rows(off, "asked") == [] and rows(off, "feedback") == []
    assert off_insights.unanswered(30, {})["total"] == 0
    on.close()
    off.close()


def test_retention_removes_old_questions_and_ratings(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite", record_questions=True, retention_days=1)
    store.append("s", turn("old question", False), new=True)
    store.append("s", turn("new question", False))
    store.flush()
    long_ago = time.time() - 2 * 86400

    def age(db):
        db.execute("UPDATE asked SET created = ? WHERE message = 'old question'", (long_ago,))
        db.execute("INSERT INTO feedback VALUES ('s', 1, ?, 'down', NULL)", (long_ago,))

    assert store.write("age rows", age)
    store.purge_expired()
    assert [r[3] for r in rows(store, "asked")] == ["new question"]
    assert rows(store, "feedback") == []
    store.close()


def test_misses_are_grouped_by_what_they_asked_about(store, insights):
    store.append("a", turn("How much is the tuition at Zed College?", False, unknown=["Zed College"]), new=True)
    store.append("b", turn("What are the fees at Zed College?", False, unknown=["Zed College"]), new=True)
    store.append("c", turn("When is the application deadline?", False, asked=["doc-a"]), new=True)
    store.append("d", turn("How much is the tuition?", True, cited=["doc-a"]), new=True)
    store.append("e", turn("How much is the tuition?", True, cited=["doc-b"]), new=True)  # answered, not rated
    insights.rate("d", 1, "down", "wrong_figure")
    insights.rate("e", 1, "up")
    report = insights.unanswered(30, {"doc-a": "Program A"})
    assert report["total"] == 4
    groups = {(g["name"], tuple(d["title"] for d in g["documents"]), g["fact"]): g for g in report["groups"]}
    zed = groups[("Zed College", (), "cost")]
    assert zed["count"] == 2 and zed["refused"] == 2 and len(zed["examples"]) == 2
    assert groups[(None, ("Program A",), "deadline")]["refused"] == 1
    rated = groups[(None, ("Program A",), "cost")]
    assert rated["rated_down"] == 1 and rated["reasons"] == {"wrong_figure": 1}
    assert report["groups"][0] is zed  # the largest group first
    assert report["feedback"]["up"] == 1 and report["feedback"]["down"] == 1


def test_a_question_is_sorted_to_the_fact_of_its_nearest_wording(fake_embedder):
    vectors = fake_embedder.embed(["what are the fees here", "how much do they earn", "deadline to apply"])
    assert CATALOGUE.sort_questions(vectors, fake_embedder.embed) == ["cost", "pay", "deadline"]
    assert [f.fact for f in CATALOGUE.for_type("career")] == ["pay"]


def test_the_shipped_catalogue_is_well_formed():
    catalogue = FactCatalogue.load()
    keys = [f.fact for f in catalogue.facts]
    assert len(keys) == len(set(keys))
    assert {"cost", "deadline", "test_policy", "english_test", "gpa", "credits", "duration", "format"} <= set(keys)
    assert {"pay", "outlook", "education", "duties"} == {f.fact for f in catalogue.for_type("career")}
    assert all(f.question.endswith("?") and f.examples for f in catalogue.facts)
