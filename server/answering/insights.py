"""What the pages' owners learn from the chat: ratings of answers, and the questions the bot could not answer
(refused, or answered and rated down), grouped by the document or name asked about and the fact asked for.

Rows live in the session store's file (tables ``asked`` and ``feedback``), written with the turns; only the
message text is kept (no address), for ``PQA_INSIGHTS_RETENTION_DAYS``; with ``PQA_INSIGHTS=off`` nothing is.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidRequest, NotFound
from .facts import FactCatalogue
from .sessions import SessionStore

RATINGS = ("up", "down")
REASONS = {
    "wrong_figure": "Wrong figure",
    "wrong_school": "Wrong school",
    "not_asked": "Not what I asked",
    "outdated": "Outdated",
}
MAX_ROWS = 20_000  # the newest questions read for one report
EXAMPLES = 3


@dataclass
class Miss:
    """One question the bot could not answer well, as read back from the store."""

    message: str
    query: str
    refused: bool
    docs: tuple[str, ...]
    names: tuple[str, ...]
    reason: str | None  # the rating's reason, for an answer rated down


class Insights:
    def __init__(
        self,
        store: SessionStore,
        catalogue: FactCatalogue,
        encode: Callable[[list[str]], np.ndarray],
        *,
        enabled: bool = True,
    ):
        self.store, self.catalogue, self.encode, self.enabled = store, catalogue, encode, enabled
        self._facts: dict[str, str] = {}  # the fact of a query already sorted
        self._lock = threading.Lock()

    # --- feedback ---------------------------------------------------------------------------------
    def rate(self, session_id: str, turn: int, rating: str, reason: str | None = None) -> None:
        """Record a rating of a turn (a second rating of the same turn replaces the first)."""
        if rating not in RATINGS:
            raise InvalidRequest(f"rating must be one of {', '.join(RATINGS)}")
        if reason is not None and reason not in REASONS:
            raise InvalidRequest(f"reason must be one of {', '.join(REASONS)}")
        if reason is not None and rating != "down":
            raise InvalidRequest("a reason is given only with rating 'down'")
        if not self.store.exists(session_id):
            raise NotFound(f"session {session_id!r} was not found or has expired")
        last = self.store.turns(session_id)
        if not 1 <= turn <= last:
            raise NotFound(f"session {session_id!r} has no turn {turn} (its turns are 1 to {last})")
        if not self.enabled:
            return
        self.store.flush()  # the turn's own row first: a rating never stands without its question

        upsert = self.store.sql(
            "INSERT INTO feedback (session_id, n, created, rating, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT "
            "(session_id, n) DO UPDATE SET created = excluded.created, rating = excluded.rating, reason = excluded.reason"
        )

        def write(db):
            db.execute(upsert, (session_id, turn, time.time(), rating, reason))

        self.store.write("feedback", write)

    def feedback_counts(self, days: float) -> dict:
        """Ratings given in the last ``days``: up, down, and the reasons given for down."""
        since = time.time() - days * 86400

        query = self.store.sql(
            "SELECT rating, reason, COUNT(*) FROM feedback WHERE created >= ? GROUP BY rating, reason"
        )

        def q(db):
            return db.execute(query, (since,)).fetchall()

        counts = {"up": 0, "down": 0, "reasons": dict.fromkeys(REASONS, 0)}
        for rating, reason, n in self.store.read("feedback counts", q, []):
            counts[rating] = counts.get(rating, 0) + n
            if rating == "down" and reason in REASONS:
                counts["reasons"][reason] += n
        return counts

    # --- unanswered -------------------------------------------------------------------------------
    def misses(self, days: float) -> list[Miss]:
        """The questions of the last ``days`` refused, or answered and rated down, newest first."""
        since = time.time() - days * 86400

        query = self.store.sql(
            "SELECT a.message, a.query, a.answered, a.docs, a.names, f.reason FROM asked a "
            "LEFT JOIN feedback f ON f.session_id = a.session_id AND f.n = a.n "
            "WHERE a.created >= ? AND (a.answered = 0 OR f.rating = 'down') ORDER BY a.created DESC LIMIT ?"
        )

        def q(db):
            return db.execute(query, (since, MAX_ROWS)).fetchall()

        return [
            Miss(m, qy, not answered, tuple(json.loads(docs or "[]")), tuple(json.loads(names or "[]")), reason)
            for m, qy, answered, docs, names, reason in self.store.read("insights", q, [])
        ]

    def facts_of(self, queries: list[str]) -> list[str]:
        """The fact each query asks for (by meaning; sorted once per distinct query and remembered)."""
        with self._lock:
            known = {q: self._facts[q] for q in set(queries) if q in self._facts}
        todo = [q for q in dict.fromkeys(queries) if q not in known]
        if todo:
            known.update(zip(todo, self.catalogue.sort_questions(self.encode(todo), self.encode), strict=True))
            with self._lock:
                self._facts.update(known)
                while len(self._facts) > MAX_ROWS:
                    self._facts.pop(next(iter(self._facts)))
        return [known[q] for q in queries]

    def unanswered(self, days: float, titles: dict[str, str]) -> dict:
        """The misses grouped by what they were about (documents, or a name no document matches) and the fact
        asked for, with counts and a few wordings; the largest groups first."""
        misses = self.misses(days)
        facts = self.facts_of([m.query or m.message for m in misses])
        groups: dict[tuple, dict] = {}
        for miss, fact in zip(misses, facts, strict=True):
            subject = ("name", miss.names[0]) if miss.names else ("docs", miss.docs)
            group = groups.get((subject, fact))
            if group is None:
                group = groups[(subject, fact)] = _group(subject, fact, self.catalogue.label(fact), titles)
            group["count"] += 1
            group["refused" if miss.refused else "rated_down"] += 1
            if miss.reason:
                group["reasons"][miss.reason] += 1
            if miss.message not in group["examples"] and len(group["examples"]) < EXAMPLES:
                group["examples"].append(miss.message)
        ordered = sorted(groups.values(), key=lambda g: (-g["count"], g["fact"]))
        return {"days": days, "total": len(misses), "groups": ordered, "feedback": self.feedback_counts(days)}


def _group(subject: tuple, fact: str, label: str, titles: dict[str, str]) -> dict:
    kind, value = subject
    documents = [{"doc_id": d, "title": titles.get(d, d)} for d in value] if kind == "docs" else []
    return {
        "documents": documents,
        "name": value if kind == "name" else None,
        "fact": fact,
        "fact_label": label,
        "count": 0,
        "refused": 0,
        "rated_down": 0,
        "reasons": collections.Counter(),
        "examples": [],
    }
