"""Conversation history kept server-side in SQLite, with expiry and a bound on turns."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class Turn:
    message: str
    query: str
    topic: str
    answer: str
    answered: bool
    doc_ids: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)  # the conversation state after this turn (answering.conversation)


class SessionStore:
    """Sessions and their turns. Every failure of the store is logged and survived: chat goes on without history."""

    def __init__(self, path: Path, *, ttl_seconds: float = 86400.0, max_turns: int = 20):
        self.path = Path(path)
        self.ttl = ttl_seconds
        self.max_turns = max_turns
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: a commit survives a killed process (not a power cut) and costs
            # no fsync per turn on the request path.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created REAL, updated REAL);
                CREATE TABLE IF NOT EXISTS turns (
                    session_id TEXT, n INTEGER, created REAL, data TEXT, PRIMARY KEY (session_id, n));
                """
            )
            self._db = db
        return self._db

    def _run(self, what: str, fn, default):
        with self._lock:
            try:
                return fn(self._conn())
            except sqlite3.Error as exc:
                logger.warning("session store %s failed (%s): answering without history", what, exc)
                if self._db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.close()
                    self._db = None
                return default

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def exists(self, session_id: str) -> bool:
        cutoff = time.time() - self.ttl

        def q(db):
            row = db.execute("SELECT updated FROM sessions WHERE id = ?", (session_id,)).fetchone()
            return row is not None and row[0] >= cutoff

        return self._run("lookup", q, False)

    def history(self, session_id: str, limit: int = 6) -> list[Turn]:
        def q(db):
            rows = db.execute(
                "SELECT data FROM turns WHERE session_id = ? ORDER BY n DESC LIMIT ?", (session_id, limit)
            ).fetchall()
            return [Turn(**json.loads(r[0])) for r in reversed(rows)]

        return self._run("read", q, [])

    def append(self, session_id: str, turn: Turn) -> None:
        now = time.time()

        def q(db):
            with db:
                db.execute(
                    "INSERT INTO sessions (id, created, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated",
                    (session_id, now, now),
                )
                n = db.execute(
                    "SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE session_id = ?", (session_id,)
                ).fetchone()[0]
                db.execute(
                    "INSERT INTO turns (session_id, n, created, data) VALUES (?, ?, ?, ?)",
                    (session_id, n, now, json.dumps(turn.__dict__)),
                )
                db.execute("DELETE FROM turns WHERE session_id = ? AND n <= ?", (session_id, n - self.max_turns))

        self._run("write", q, None)

    def purge_expired(self) -> int:
        cutoff = time.time() - self.ttl

        def q(db):
            with db:
                old = [r[0] for r in db.execute("SELECT id FROM sessions WHERE updated < ?", (cutoff,))]
                db.executemany("DELETE FROM turns WHERE session_id = ?", [(i,) for i in old])
                db.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in old])
                return len(old)

        return self._run("purge", q, 0)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
