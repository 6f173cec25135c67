"""Work over the documents after each index version is in service, in one background thread: the suggested
questions checked by answering them, then each document's coverage of the common facts. It yields to requests
(a check is a few ms of Python that would hold the interpreter a request is waiting for) and stops at once on
shutdown or when a newer version comes in."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .coverage import Coverage, measure
from .facts import FactCatalogue
from .index_service import IndexState
from .suggest import candidates as suggestion_candidates
from .suggest import verified
from .vectors import Vectors

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 0.005  # between two checks
YIELD_SECONDS = 0.25  # a check waits up to this long for the requests to pause
QUIET_SECONDS = 0.004  # ... for a pause this long with no request in flight

# ask(state, question, doc_ids, vectors) -> the answer's citations (dicts as in a ChatResult), or None if refused
Ask = Callable[[IndexState, str, list[str] | None, Vectors], list[dict] | None]


class BackgroundChecks:
    def __init__(
        self,
        ask: Ask,
        facts: FactCatalogue,
        encode: Callable,
        quiet_for: Callable[[], float],
        current: Callable[[], IndexState | None],
    ):
        self.ask, self.facts, self.encode = ask, facts, encode
        self.quiet_for = quiet_for  # seconds since the last request in flight was answered
        self.current = current  # the state in service now
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wanted = False

    def schedule(self) -> None:
        """Check the index in service: never two runs at once (a swap during a run makes the runner check the
        newest version next)."""
        with self._lock:
            self._wanted = True
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="background-checks", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)  # one check at most: never mid-encode when the interpreter exits

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            state = self.current()
            if state is not None:
                self.check_suggestions(state)
            if state is not None and self.current() is state:
                self.check_coverage(state)

    def go_on(self, state: IndexState) -> Callable[[], bool]:
        def go_on() -> bool:
            if self._stopping.wait(PAUSE_SECONDS):
                return False
            deadline = time.monotonic() + YIELD_SECONDS
            while self.quiet_for() < QUIET_SECONDS and time.monotonic() < deadline:
                if self._stopping.wait(0.001):
                    return False
            return self.current() is state

        return go_on

    def check_suggestions(self, state: IndexState, *, go_on: Callable[[], bool] | None = None) -> list[str]:
        """Draw suggested questions from the index and keep those answered from their own page."""

        vectors = Vectors(self.encode)

        def answers(question: str) -> list[str] | None:
            citations = self.ask(state, question, None, vectors)
            return [c["doc_id"] for c in citations] if citations is not None else None

        try:
            pool = suggestion_candidates(state.index)
            state.checked_suggestions = verified(state.index, answers, go_on=go_on or self.go_on(state), pool=pool)
            state.suggestion_docs = {c.question: c.doc_id for c in pool}
        except Exception:  # noqa: BLE001 - suggestions are a nicety; answering goes on without them
            logger.exception("checking suggested questions failed")
            state.checked_suggestions = []
        logger.debug("%d suggested questions checked for %s", len(state.checked_suggestions), state.index.name)
        return state.checked_suggestions

    def check_coverage(self, state: IndexState, *, go_on: Callable[[], bool] | None = None) -> Coverage:
        """Ask each document the facts students most often ask (scoped to that document, answered by the same
        model as the chat); readers see the documents done so far."""

        vectors = Vectors(self.encode)  # the same few questions for every document: each encoded once

        def ask(question: str, doc_id: str) -> list[str] | None:
            citations = self.ask(state, question, [doc_id], vectors)
            if citations is None:
                return None
            return [c["text"][a:b] for c in citations if c["doc_id"] == doc_id for a, b in c["quotes"]]

        state.coverage = Coverage(state.index.name)
        try:
            measure(state.index, self.facts, ask, self.encode, go_on or self.go_on(state), state.coverage)
        except Exception:  # noqa: BLE001 - the owners' report must never take answering down
            logger.exception("measuring the documents' coverage failed")
        return state.coverage
