"""Conversations in PostgreSQL (``PQA_DATABASE_URL``), shared by every replica: a follow-up sent to another
server process or machine is resolved against the turn before it.

The same contract as ``sessions.SessionStore`` (SQLite, one machine): every failure is logged and survived,
chat goes on without history. A turn is committed before its answer is returned (another replica may get the
follow-up at once). While the database is unreachable the store stops trying for ``RETRY_SECONDS`` after each
failure, so requests do not wait on it; it is used again as soon as it answers. The schema is kept in
``server/migrations/postgres/``, applied in order under an advisory lock (one replica migrates at a time).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from pathlib import Path

from .sessions import Turn, asked_row, turn_from_json

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "postgres"
MIGRATION_LOCK = 7_213_001  # pg_advisory_lock key of the schema migrations
RETRY_SECONDS = 1.0
PURGE_EVERY_SECONDS = 600.0
UPSERT_ASKED = (
    "INSERT INTO asked VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, n) DO UPDATE SET "
    "created = excluded.created, message = excluded.message, query = excluded.query, answered = excluded.answered, "
    "reason = excluded.reason, docs = excluded.docs, names = excluded.names"
)


def migrate(conn) -> list[str]:
    """Apply the migration files not applied yet, in order; returns their names."""
    applied = []
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied DOUBLE PRECISION)")
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations").fetchall()}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name in done:
                continue
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
                conn.execute("INSERT INTO schema_migrations VALUES (%s, %s)", (path.name, time.time()))
            applied.append(path.name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    if applied:
        logger.info("database migrations applied: %s", ", ".join(applied))
    return applied


class PgSessionStore:
    """Sessions and their turns in PostgreSQL, through a psycopg connection pool."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float = 86400.0,
        max_turns: int = 20,
        record_questions: bool = False,
        retention_days: float = 90.0,
    ):
        from psycopg_pool import ConnectionPool

        self.ttl, self.max_turns = ttl_seconds, max_turns
        self.record_questions = record_questions
        self.retention = retention_days * 86400.0
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=8,
            open=False,
            timeout=2.0,
            check=ConnectionPool.check_connection,  # a connection broken by a database restart is replaced
            kwargs={"autocommit": True, "connect_timeout": 2},
            name="sessions",
        )
        self._pool.open(wait=False)
        self._down_until = 0.0
        self._migrated = False
        self._lock = threading.Lock()
        self._last_purge = time.time()

    # --- the database, when it answers ------------------------------------------------------------
    @property
    def available(self) -> bool:
        """False while the database is being left alone after a failure."""
        return time.monotonic() >= self._down_until

    def _run(self, what: str, fn, default):
        if not self.available:
            return default
        try:
            with self._pool.connection(timeout=2.0) as conn:
                self._ensure_schema(conn)
                return fn(conn)
        except Exception as exc:  # noqa: BLE001 - psycopg and pool errors alike: chat goes on without history
            self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning("session database %s failed (%s): answering without history", what, exc)
            return default

    def _ensure_schema(self, conn) -> None:
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    migrate(conn)
                    self._migrated = True

    def read(self, what: str, fn, default):
        return self._run(what, fn, default)

    def write(self, what: str, fn) -> bool:
        def in_transaction(conn):
            with conn.transaction():
                fn(conn)
            return True

        return self._run(what, in_transaction, False)

    @staticmethod
    def sql(text: str) -> str:
        """A query written with ``?`` placeholders (as for SQLite) in psycopg's ``%s`` style."""
        return text.replace("?", "%s")

    # --- reading --------------------------------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def exists(self, session_id: str) -> bool:
        cutoff = time.time() - self.ttl

        def q(conn):
            row = conn.execute("SELECT updated FROM sessions WHERE id = %s", (session_id,)).fetchone()
            return row is not None and row[0] >= cutoff

        return self._run("lookup", q, False)

    def last(self, session_id: str) -> Turn | None:
        turns = self.history(session_id, limit=3)
        return turns[-1] if turns else None

    def history(self, session_id: str, limit: int = 6, *, flush: bool = True) -> list[Turn]:
        def q(conn):
            rows = conn.execute(
                "SELECT data FROM turns WHERE session_id = %s ORDER BY n DESC LIMIT %s", (session_id, limit)
            ).fetchall()
            return [t for t in (turn_from_json(session_id, r[0]) for r in reversed(rows)) if t is not None]

        return self._run("read", q, [])

    def turns(self, session_id: str) -> int:
        def q(conn):
            row = conn.execute("SELECT COALESCE(MAX(n), 0) FROM turns WHERE session_id = %s", (session_id,))
            return row.fetchone()[0]

        return self._run("count", q, 0)

    # --- writing --------------------------------------------------------------------------------
    def append(self, session_id: str, turn: Turn, *, new: bool = False, previous: int = 0) -> int:
        """Commit a turn (before the answer goes out: the next turn may reach another replica). Returns its
        number (1 for a new session; the next one otherwise, counted in the transaction whatever ``previous``
        says: another replica may have added one)."""
        now = time.time()

        def tx(conn):
            with conn.transaction():
                conn.execute(
                    "INSERT INTO sessions VALUES (%s, %s, %s) ON CONFLICT (id) DO UPDATE SET updated = excluded.updated",
                    (session_id, now, now),
                )
                row = conn.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE session_id = %s", (session_id,))
                turn.n = 1 if new else row.fetchone()[0]
                conn.execute(
                    "INSERT INTO turns VALUES (%s, %s, %s, %s) ON CONFLICT (session_id, n) DO UPDATE SET "
                    "created = excluded.created, data = excluded.data",
                    (session_id, turn.n, now, json.dumps(turn.__dict__)),
                )
                conn.execute(
                    "DELETE FROM turns WHERE session_id = %s AND n <= %s", (session_id, turn.n - self.max_turns)
                )
                if self.record_questions:
                    conn.execute(UPSERT_ASKED, asked_row(session_id, turn, now))
            return turn.n

        turn.n = turn.n or 1
        n = self._run("write", tx, turn.n)
        if time.time() - self._last_purge > PURGE_EVERY_SECONDS:
            self.purge_expired()
        return n

    def flush(self, timeout: float = 10.0) -> None:
        """Turns are committed as they are appended: nothing waits."""

    def purge_expired(self) -> int:
        """Delete sessions idle for longer than the TTL, and insights older than their retention."""
        self._last_purge = time.time()
        cutoff, kept_since = self._last_purge - self.ttl, self._last_purge - self.retention

        def tx(conn):
            with conn.transaction():
                old = [r[0] for r in conn.execute("SELECT id FROM sessions WHERE updated < %s", (cutoff,)).fetchall()]
                conn.execute("DELETE FROM turns WHERE session_id = ANY(%s)", (old,))
                conn.execute("DELETE FROM sessions WHERE id = ANY(%s)", (old,))
                conn.execute("DELETE FROM asked WHERE created < %s", (kept_since,))
                conn.execute("DELETE FROM feedback WHERE created < %s", (kept_since,))
            return len(old)

        return self._run("purge", tx, 0)

    def close(self) -> None:
        self._pool.close()
