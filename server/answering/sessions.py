"""Conversation history kept server-side in SQLite, with expiry and a bound on turns.

Reads and writes stay off each other's way: each thread reads through its own connection (SQLite's WAL lets
readers run beside the writer), and turns are written by one writer thread that commits whatever has queued
up in one transaction. A turn is visible to the next request of its session at once (it is kept in memory
until committed), so the write leaves the request path without a follow-up ever missing its context.
``close()`` drains the queue; only a hard kill of the process can lose the turns of its last milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created REAL, updated REAL);
CREATE TABLE IF NOT EXISTS turns (session_id TEXT, n INTEGER, created REAL, data TEXT, PRIMARY KEY (session_id, n));
CREATE TABLE IF NOT EXISTS asked (
    session_id TEXT, n INTEGER, created REAL, message TEXT, query TEXT, answered INTEGER, reason TEXT,
    docs TEXT, names TEXT, PRIMARY KEY (session_id, n));
CREATE INDEX IF NOT EXISTS asked_created ON asked (created);
CREATE TABLE IF NOT EXISTS feedback (
    session_id TEXT, n INTEGER, created REAL, rating TEXT, reason TEXT, PRIMARY KEY (session_id, n));
"""
WRITE_INTERVAL_SECONDS = 0.01
CORRUPT = re.compile(r"not a database|malformed|corrupt", re.I)  # SQLite's words for a damaged file
BUSY = re.compile(r"locked|busy", re.I)  # SQLite's words for a file another connection holds
BUSY_RETRIES = 3
PURGE_EVERY_SECONDS = 600.0


@dataclass
class Turn:
    message: str
    query: str
    topic: str
    answer: str
    answered: bool
    doc_ids: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)  # the conversation state after this turn (answering.conversation)
    n: int = 0  # the turn's number in its session (1, 2, ...), given by ``SessionStore.append``
    reason: str | None = None  # why it was refused, when it was
    asked: list[str] = field(default_factory=list)  # the documents the question was about (named or inherited)
    unknown: list[str] = field(default_factory=list)  # names asked about that no document matches


def asked_row(session_id: str, turn: Turn, now: float) -> tuple:
    """A turn's row of the owners' insights (the ``asked`` table of either store), in its columns' order."""
    docs, names = json.dumps(turn.asked or turn.doc_ids), json.dumps(turn.unknown)
    return (session_id, turn.n, now, turn.message, turn.query, int(turn.answered), turn.reason, docs, names)


def turn_from_json(session_id: str, data: str) -> Turn | None:
    """A stored turn, or None (logged) when its row is damaged: one bad row never breaks a conversation."""
    try:
        return Turn(**json.loads(data))
    except (TypeError, ValueError) as exc:
        logger.warning("session %s: skipping a damaged turn (%s)", session_id, exc)
        return None


class SessionStore:
    """Sessions and their turns. Every failure of the store is logged and survived: chat goes on without history."""

    def __init__(
        self,
        path: Path,
        *,
        ttl_seconds: float = 86400.0,
        max_turns: int = 20,
        record_questions: bool = False,
        retention_days: float = 90.0,
        sync: bool = False,
    ):
        self.path = Path(path)
        # Several server processes share the file (--workers): a turn is committed before its answer goes out,
        # since the follow-up may reach another process.
        self.sync = sync
        self._sync_lock = threading.Lock()
        self._sync_db: sqlite3.Connection | None = None
        self._sync_generation = 0
        self.ttl = ttl_seconds
        self.max_turns = max_turns
        self.record_questions = record_questions  # keep each question's text for the owners' insights
        self.retention = retention_days * 86400.0
        self._local = threading.local()  # one reading connection per thread
        self._readers: list[sqlite3.Connection] = []
        self._pending: dict[str, Turn] = {}  # the newest turn of a session, until committed
        self._pending_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._last_purge = time.time()
        self._generation = 0  # bumped when a damaged store is rebuilt: connections opened before reconnect
        self._recover_lock = threading.Lock()

    # --- connections ----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: a commit survives a killed process (not a power cut), no fsync per turn.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "generation", None) != self._generation:
            with contextlib.suppress(sqlite3.Error):
                db.close()  # the store was rebuilt since this connection was opened
            db = None
        if db is None:
            db = self._local.db = self._connect()
            self._local.generation = self._generation
            self._readers.append(db)
        return db

    def _recover(self, exc: sqlite3.Error) -> bool:
        """A store damaged beyond reading ("file is not a database", "malformed") is moved aside and rebuilt
        empty, so new conversations keep their context again; returns whether it was."""
        if not isinstance(exc, sqlite3.DatabaseError) or not CORRUPT.search(str(exc)):
            return False
        with self._recover_lock:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            for suffix in ("", "-wal", "-shm"):
                damaged = Path(f"{self.path}{suffix}")
                if damaged.exists():
                    with contextlib.suppress(OSError):
                        damaged.replace(Path(f"{self.path}.damaged-{stamp}{suffix}"))
            self._generation += 1
        logger.error("session store %s was damaged (%s): moved aside and rebuilt empty", self.path.name, exc)
        return True

    available = True  # the file is local: it does not go away the way a database server can

    @staticmethod
    def sql(text: str) -> str:
        """A query in this store's placeholder style (SQLite's ``?``, as written)."""
        return text

    def read(self, what: str, fn, default):
        """``fn(connection)`` on this thread's reading connection; ``default`` (logged) when the store fails."""
        return self._read(what, fn, default)

    def write(self, what: str, fn) -> bool:
        """``fn(connection)`` in one transaction on a short-lived connection (rare writes: feedback); False
        (logged) when the store fails."""
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            logger.warning("session store %s failed (%s)", what, exc)
            return False
        try:
            with db:
                fn(db)
            return True
        except sqlite3.Error as exc:
            logger.warning("session store %s failed (%s)", what, exc)
            return False
        finally:
            db.close()

    def _read(self, what: str, fn, default):
        try:
            return fn(self._reader())
        except sqlite3.Error as exc:
            if self._recover(exc):
                with contextlib.suppress(sqlite3.Error):
                    return fn(self._reader())
            logger.warning("session store %s failed (%s): answering without history", what, exc)
            db = getattr(self._local, "db", None)
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
                self._local.db = None
            return default

    # --- reading --------------------------------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def exists(self, session_id: str) -> bool:
        with self._pending_lock:
            if session_id in self._pending:
                return True
        cutoff = time.time() - self.ttl

        def q(db):
            row = db.execute("SELECT updated FROM sessions WHERE id = ?", (session_id,)).fetchone()
            return row is not None and row[0] >= cutoff

        return self._read("lookup", q, False)

    def last(self, session_id: str) -> Turn | None:
        """The newest readable turn of a session (the one a follow-up builds on)."""
        with self._pending_lock:
            pending = self._pending.get(session_id)
        if pending is not None:
            return pending
        turns = self.history(session_id, limit=3, flush=False)
        return turns[-1] if turns else None

    def history(self, session_id: str, limit: int = 6, *, flush: bool = True) -> list[Turn]:
        if flush:
            self.flush()

        def q(db):
            rows = db.execute(
                "SELECT data FROM turns WHERE session_id = ? ORDER BY n DESC LIMIT ?", (session_id, limit)
            ).fetchall()
            return [t for t in (turn_from_json(session_id, r[0]) for r in reversed(rows)) if t is not None]

        return self._read("read", q, [])

    def turns(self, session_id: str) -> int:
        """How many turns the session has had (its newest turn's number; 0 for none)."""
        with self._pending_lock:
            pending = self._pending.get(session_id)
        if pending is not None and pending.n:
            return pending.n

        def q(db):
            return db.execute("SELECT COALESCE(MAX(n), 0) FROM turns WHERE session_id = ?", (session_id,)).fetchone()[0]

        return self._read("count", q, 0)

    # --- writing --------------------------------------------------------------------------------
    def append(self, session_id: str, turn: Turn, *, new: bool = False, previous: int = 0) -> int:
        """Queue a turn for the writer; it is readable (``last``/``exists``) at once. Returns its number
        (``new``: the session starts here; ``previous``: the number of its last turn, read by the caller:
        neither is counted again)."""
        now = time.time()
        turn.n = 1 if new else (previous or self.turns(session_id)) + 1
        if self.sync:
            with self._sync_lock:
                self._sync_db, self._sync_generation = self._committed(
                    self._sync_db, self._sync_generation, [(session_id, turn, now)]
                )
                if self._sync_db is not None and now - self._last_purge > PURGE_EVERY_SECONDS:
                    with contextlib.suppress(sqlite3.Error):
                        self._purge(self._sync_db)
            return turn.n
        with self._pending_lock:
            self._pending[session_id] = turn
        self._ensure_writer()
        self._queue.put((session_id, turn, now))
        return turn.n

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued turn is committed (or has failed and been logged)."""
        if self._writer is None:
            return
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.002)

    def _ensure_writer(self) -> None:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, name="session-writer", daemon=True)
                    self._writer.start()

    def _write_loop(self) -> None:
        db: sqlite3.Connection | None = None
        generation = self._generation
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.task_done()
                break
            batch = [item]
            while len(batch) < 256:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    self._queue.task_done()
                    break
                batch.append(more)
            try:
                db, generation = self._committed(db, generation, batch)
            finally:
                with self._pending_lock:
                    for session_id, turn, _ in batch:
                        if self._pending.get(session_id) is turn:
                            del self._pending[session_id]
                for _ in batch:
                    self._queue.task_done()
            if time.time() - self._last_purge > PURGE_EVERY_SECONDS and db is not None:
                self._purge(db)
            # Let turns gather before the next batch: while the writer sleeps, a request queuing a turn wakes
            # no thread (a wake-up per request costs the serving thread the GIL hand-over).
            time.sleep(WRITE_INTERVAL_SECONDS)
        if db is not None:
            db.close()

    def _committed(self, db: sqlite3.Connection | None, generation: int, batch: list) -> tuple:
        """Commit a batch on the writer's connection; a store found damaged is rebuilt and the batch committed
        there, and a file held for a moment by another connection (a reader opening it, a schema check) is
        waited for: a turn is worth a short wait, not a loss. Returns the connection (None after a failure,
        logged) and the generation it belongs to."""
        failure: sqlite3.Error | None = None
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return self._commit_on(db, generation, batch)
            except sqlite3.Error as exc:
                failure, db = exc, None  # closed by _commit_on
                if self._recover(exc):
                    continue
                if not BUSY.search(str(exc)):
                    break
                time.sleep(0.05 * (attempt + 1))
        logger.warning("session store write failed (%s): %d turns not kept", failure, len(batch))
        return None, generation

    def _commit_on(self, db: sqlite3.Connection | None, generation: int, batch: list) -> tuple:
        """Commit on ``db``, reopened first when the store was rebuilt since it was opened; closed on failure."""
        if db is not None and generation != self._generation:
            db.close()
            db = None
        if db is None:
            generation, db = self._generation, self._connect()
        try:
            self._commit(db, batch)
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.close()
            raise
        return db, generation

    def _commit(self, db: sqlite3.Connection, batch: list[tuple[str, Turn, float]]) -> None:
        with db:
            for session_id, turn, now in batch:
                db.execute(
                    "INSERT INTO sessions (id, created, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated",
                    (session_id, now, now),
                )
                n = turn.n
                db.execute(
                    "INSERT OR REPLACE INTO turns (session_id, n, created, data) VALUES (?, ?, ?, ?)",
                    (session_id, n, now, json.dumps(turn.__dict__)),
                )
                db.execute("DELETE FROM turns WHERE session_id = ? AND n <= ?", (session_id, n - self.max_turns))
                if self.record_questions:
                    db.execute(
                        "INSERT OR REPLACE INTO asked VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        asked_row(session_id, turn, now),
                    )

    def _purge(self, db: sqlite3.Connection) -> int:
        self._last_purge = time.time()
        cutoff = self._last_purge - self.ttl
        with db:
            old = [r[0] for r in db.execute("SELECT id FROM sessions WHERE updated < ?", (cutoff,))]
            db.executemany("DELETE FROM turns WHERE session_id = ?", [(i,) for i in old])
            db.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in old])
            kept_since = self._last_purge - self.retention  # the owners' insights are kept longer than sessions
            db.execute("DELETE FROM asked WHERE created < ?", (kept_since,))
            db.execute("DELETE FROM feedback WHERE created < ?", (kept_since,))
        if old:
            logger.info("purged %d expired sessions", len(old))
        return len(old)

    def purge_expired(self) -> int:
        """Delete sessions idle for longer than the TTL (also done by the writer every ten minutes)."""
        self.flush()
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            logger.warning("session store purge failed (%s)", exc)
            return 0
        try:
            return self._purge(db)
        except sqlite3.Error as exc:
            logger.warning("session store purge failed (%s)", exc)
            return 0
        finally:
            db.close()

    def close(self) -> None:
        if self._sync_db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._sync_db.close()
            self._sync_db = None
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
            self._writer = None
        for db in self._readers:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        self._readers.clear()
        self._local = threading.local()


def open_session_store(settings):
    """The session store the settings ask for: PostgreSQL, shared by replicas, when ``PQA_DATABASE_URL`` is set,
    else SQLite in ``PQA_SESSION_DB``."""
    options = {
        "ttl_seconds": settings.session_ttl_hours * 3600,
        "max_turns": settings.session_max_turns,
        "record_questions": settings.insights,
        "retention_days": settings.insights_retention_days,
    }
    if settings.database_url:
        from .pg_sessions import PgSessionStore

        return PgSessionStore(settings.database_url, **options)
    return SessionStore(settings.session_db, sync=settings.workers > 1, **options)
