"""Sessions in a real PostgreSQL server: the same contract as the SQLite store, shared by store instances
(replicas), migrated once, and survived when the database goes away."""

import time

import psycopg
import pytest

from server.answering.facts import FactCatalogue
from server.answering.insights import Insights
from server.answering.pg_sessions import PgSessionStore, migrate
from server.answering.sessions import Turn
from tests.postgres import fresh_database

pytestmark = pytest.mark.integration


def turn(message, answered=True, **extra):
    t = Turn(message, message, "", "answer" if answered else "refusal", answered, ["doc-a"] if answered else [])
    for key, value in extra.items():
        setattr(t, key, value)
    return t


@pytest.fixture
def database(postgres):
    """A fresh database per test."""
    return fresh_database(postgres)


def test_two_replicas_share_a_conversation(database):
    a, b = PgSessionStore(database), PgSessionStore(database)
    assert a.append("s1", turn("first"), new=True) == 1
    assert b.exists("s1") and b.last("s1").message == "first"  # committed before the answer went out
    assert b.append("s1", turn("second")) == 2
    assert [t.message for t in a.history("s1")] == ["first", "second"] and a.turns("s1") == 2
    assert not a.exists("nope") and a.last("nope") is None
    a.close()
    b.close()


def test_the_schema_is_migrated_once(database):
    store = PgSessionStore(database)
    store.append("s", turn("q"), new=True)
    with psycopg.connect(database, autocommit=True) as conn:
        assert migrate(conn) == []  # already applied: nothing to do
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations").fetchall()]
    assert names == ["001_sessions.sql"]
    store.close()


def test_history_is_bounded_and_old_sessions_and_insights_expire(database):
    store = PgSessionStore(database, max_turns=2, ttl_seconds=0.5, record_questions=True, retention_days=1)
    for i in range(4):
        store.append("s", turn(f"m{i}"), new=i == 0)
    assert [t.message for t in store.history("s", limit=10)] == ["m2", "m3"]
    time.sleep(0.6)
    assert not store.exists("s")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE asked SET created = created - 2 * 86400 WHERE message = 'm0'")
    assert store.purge_expired() == 1
    with psycopg.connect(database, autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT message FROM asked ORDER BY n").fetchall()] == ["m1", "m2", "m3"]
        assert conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0
    store.close()


def test_insights_read_and_write_through_postgres(database, fake_embedder):
    store = PgSessionStore(database, record_questions=True)
    insights = Insights(store, FactCatalogue.load(), fake_embedder.embed)
    store.append("s", turn("How much is the tuition?"), new=True)
    store.append("s", turn("When is the deadline?", answered=False, reason="no unit states a date", asked=["doc-a"]))
    insights.rate("s", 1, "down", "outdated")
    insights.rate("s", 1, "down", "wrong_figure")  # replaces the first rating
    report = insights.unanswered(30, {"doc-a": "Program A"})
    assert report["total"] == 2 and report["feedback"]["down"] == 1
    assert report["feedback"]["reasons"]["wrong_figure"] == 1
    store.close()


def test_a_database_that_goes_away_is_survived_and_used_again(postgres, database):
    store = PgSessionStore(database)
    store.append("s", turn("before"), new=True)
    postgres.stop()
    try:
        assert store.exists("s") is False and not store.available  # logged, not raised
        assert store.append("s", turn("while down")) >= 1
    finally:
        postgres.start()
    deadline = time.time() + 10
    while not store.exists("s"):
        assert time.time() < deadline, "the store did not come back"
        time.sleep(0.2)
    assert store.available and store.last("s").message == "before"
    store.close()
