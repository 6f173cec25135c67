"""The records of reindex jobs and the one-job-at-a-time lock, shared by every server process that uses the
same store: the worker processes of one machine (the SQLite file beside the sessions, and a file lock in the
index folder) or every replica (PostgreSQL: a table and an advisory lock held on the job's own connection).

A lock is held by the process running the job and goes with it: the operating system drops a dead process's
file lock, PostgreSQL a dead connection's advisory lock. So a job recorded as running whose lock nobody holds
belongs to a process that died; ``recover`` marks it failed, and the caller reindexes so that the corpus and
the index agree (the corpus changes of such a job are kept and indexed, never left half-done).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from .runtime import PROCESS

logger = logging.getLogger(__name__)

COLUMNS = ("id", "state", "stage", "progress", "started", "finished", "summary", "error", "owner", "cancel")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, state TEXT, stage TEXT, progress DOUBLE PRECISION, "
    "started DOUBLE PRECISION, finished DOUBLE PRECISION, summary TEXT, error TEXT, owner TEXT, cancel INTEGER)"
)
JOB_LOCK = 7_213_002  # pg_advisory_lock key of the running reindex job
UNKNOWN = "(unknown)"  # the id reported for a lock held with no unfinished job on record
SETTLE_TRIES, SETTLE_WAIT_S = 20, 0.05  # how long such a lock is waited for (about a second)
DEAD = "its server process stopped before it finished; the corpus was indexed as it stands"


def _row(job: dict) -> tuple:
    return (
        job["id"],
        job["state"],
        job["stage"],
        job["progress"],
        job["started"],
        job["finished"],
        json.dumps(job["summary"]) if job["summary"] is not None else None,
        job["error"],
        PROCESS,
        0,
    )


def _job(row) -> dict:
    job = dict(zip(COLUMNS, row, strict=True))
    job["summary"] = json.loads(job["summary"]) if job["summary"] else None
    job.pop("owner")
    job.pop("cancel")
    return job


class _Board:
    """What both stores share: the SQL, written with ``?`` placeholders, and the lock's bookkeeping (each store
    takes and drops its own kind of lock: ``_acquire``, ``_release``)."""

    placeholder = "?"

    def __init__(self):
        self._held = None  # the handle of the lock while this process holds it
        self._guard = threading.Lock()

    def _sql(self, text: str) -> str:
        return text.replace("?", self.placeholder)

    def _execute(self, sql: str, args: tuple = ()) -> list:
        raise NotImplementedError

    def save(self, job: dict) -> None:
        """Insert or update a job's record (its progress, its end)."""
        self._execute(
            self._sql(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "state = excluded.state, stage = excluded.stage, progress = excluded.progress, "
                "finished = excluded.finished, summary = excluded.summary, error = excluded.error"
            ),
            _row(job),
        )

    def get(self, job_id: str) -> dict | None:
        rows = self._execute(self._sql(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ?"), (job_id,))
        return _job(rows[0]) if rows else None

    def request_cancel(self, job_id: str) -> None:
        self._execute(self._sql("UPDATE jobs SET cancel = 1 WHERE id = ?"), (job_id,))

    def cancel_requested(self, job_id: str) -> bool:
        rows = self._execute(self._sql("SELECT cancel FROM jobs WHERE id = ?"), (job_id,))
        return bool(rows and rows[0][0])

    def _unfinished(self) -> list[dict]:
        rows = self._execute(
            f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE state IN ('queued', 'running') ORDER BY started"
        )
        return [_job(r) for r in rows]

    def _mark_dead(self) -> list[dict]:
        """With the lock held: every job still recorded as unfinished belongs to a process that died."""
        dead = self._unfinished()
        for job in dead:
            logger.warning("reindex job %s: %s", job["id"], DEAD)
            self._execute(self._sql("UPDATE jobs SET state = 'failed', error = ? WHERE id = ?"), (DEAD, job["id"]))
        return dead

    def running_elsewhere(self) -> dict | None:
        """The job another process is running now (its lock is held), if any."""
        if self.try_lock():
            self._mark_dead()
            self.unlock()
            return None
        unfinished = self._unfinished()
        return unfinished[-1] if unfinished else {"id": UNKNOWN, "state": "running"}

    def acquire(self, job: dict) -> dict | None:
        """Take the lock and record ``job`` as running; or the job that holds the lock (nothing recorded).

        A lock held with no unfinished job on record is a job between its record and its lock (just
        recorded done, or just locked): waited for a moment, so that a client that saw "done" can start
        the next job at once."""
        for _ in range(SETTLE_TRIES):
            if self.try_lock():
                self._mark_dead()
                self.save(job)
                return None
            holder = self.running_elsewhere()
            if holder is not None and holder["id"] != UNKNOWN:
                return holder
            time.sleep(SETTLE_WAIT_S)
        return {"id": UNKNOWN, "state": "running"}

    def recover(self) -> list[dict]:
        """Mark the jobs of dead processes failed (when no live process holds the lock); returns them."""
        if not self.try_lock():
            return []
        try:
            return self._mark_dead()
        finally:
            self.unlock()

    def try_lock(self) -> bool:
        """Take the job lock without waiting; False when any process, this one included, holds it."""
        with self._guard:
            if self._held is not None:
                return False  # this process runs a job
            self._held = self._acquire()
            return self._held is not None

    def unlock(self) -> None:
        with self._guard:
            if self._held is not None:
                self._release(self._held)
                self._held = None

    def _acquire(self):
        """The lock's handle, or None when another process holds it."""
        raise NotImplementedError

    def _release(self, handle) -> None:
        raise NotImplementedError


class LocalJobBoard(_Board):
    """The worker processes of one machine: the jobs table in a SQLite file and a file lock, both in the index
    folder (which they share)."""

    def __init__(self, db_path: Path, lock_path: Path):
        super().__init__()
        self.db_path, self.lock_path = Path(db_path), Path(lock_path)

    def _execute(self, sql: str, args: tuple = ()) -> list:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.db_path, timeout=5.0)
        try:
            with db:
                db.execute(SCHEMA)
                return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def _acquire(self):
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _release(self, handle) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class PgJobBoard(_Board):
    """Every replica: the jobs table in PostgreSQL, and an advisory lock held on a connection of its own for the
    job's duration (a dead replica's connection, and so its lock, is dropped by the server)."""

    placeholder = "%s"

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self._schema = False

    def _connect(self):
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        if not self._schema:
            conn.execute(SCHEMA)
            self._schema = True
        return conn

    def _execute(self, sql: str, args: tuple = ()) -> list:
        with self._connect() as conn:
            cursor = conn.execute(sql, args)
            return cursor.fetchall() if cursor.description else []

    def _acquire(self):
        conn = self._connect()
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (JOB_LOCK,)).fetchone()[0]:
            conn.close()
            return None
        return conn

    def _release(self, handle) -> None:
        with contextlib.suppress(Exception):
            handle.execute("SELECT pg_advisory_unlock(%s)", (JOB_LOCK,))
        handle.close()


def open_job_board(settings) -> _Board:
    """PostgreSQL when ``PQA_DATABASE_URL`` is set (replicas), else SQLite in the index folder."""
    if settings.database_url:
        return PgJobBoard(settings.database_url)
    return LocalJobBoard(Path(settings.index_dir) / "jobs.sqlite", Path(settings.index_dir) / ".reindex.lock")
