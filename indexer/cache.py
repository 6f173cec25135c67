"""Embedding cache keyed by (model id, text hash), in SQLite beside the index versions."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors already computed, so an unchanged chunk is never embedded twice."""

    def __init__(self, path: Path, *, timeout: float = 30.0):
        self.path = path
        self.timeout = timeout
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open(path)
        except sqlite3.OperationalError as exc:
            # Busy (another build holds it past the timeout), read-only, or not openable: never deleted, only
            # left alone; this build embeds without it.
            logger.warning("embedding cache %s is unavailable (%s); embedding without it this time", path, exc)
            self._db = self._open(":memory:")
        except (sqlite3.DatabaseError, OSError) as exc:
            if isinstance(exc, OSError) and not path.exists():
                raise
            # Only a file that fails SQLite's own checks ("not a database", "malformed") is discarded.
            logger.warning("embedding cache %s is damaged (%s); starting a new one", path, exc)
            path.unlink(missing_ok=True)
            self._db = self._open(path)

    def _open(self, path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=self.timeout)
        try:
            if path != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB, PRIMARY KEY (model, key))"
            )
            db.execute("SELECT 1 FROM vectors LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def get_many(self, model_id: str, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})", [model_id, *batch]
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: dict[str, np.ndarray]) -> None:
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                    [(model_id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
                )
        except sqlite3.OperationalError as exc:  # busy or read-only: the vectors are simply not kept
            logger.warning("embedding cache %s not updated (%s)", self.path, exc)

    def close(self) -> None:
        self._db.close()
