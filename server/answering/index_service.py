"""The index in service: loaded once per version, swapped whole when a new version is published, with the
objects that read it (retriever, linker, composer, refuser) and what is known of it (checked suggestions,
coverage). It knows nothing of answering a turn."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.errors import IndexerError
from indexer.search import Retriever
from indexer.store import IndexPaths, LoadedIndex, load_current

from ..errors import IndexUnavailable, InvalidRequest
from ..settings import Settings
from .compose import Composer
from .coverage import Coverage
from .entities import CorpusTerms, EntityLinker
from .refuse import Refuser
from .weights import Weights

logger = logging.getLogger(__name__)


@dataclass
class IndexState:
    """One loaded index version with the objects that read it; replaced whole on reload."""

    index: LoadedIndex
    retriever: Retriever
    linker: EntityLinker
    composer: Composer
    refuser: Refuser
    stamp: tuple[str | None, float]
    checked_suggestions: list[str] | None = None  # checked by answering them; None until that has run
    suggestion_docs: dict[str, str] = field(default_factory=dict)  # each checked suggestion's document
    coverage: Coverage | None = None  # what each document answers of the common facts; None until measured

    @classmethod
    def build(cls, index: LoadedIndex, weights: Weights, stamp: tuple[str | None, float]) -> IndexState:
        terms = CorpusTerms(index)
        linker = EntityLinker(index, terms)
        return cls(
            index,
            Retriever(index),
            linker,
            Composer(index, weights, terms=terms),
            Refuser(index, weights, terms, linker.loose),
            stamp,
        )

    def covers(self) -> str:
        """What the corpus covers, for people: its first titles and how many more."""
        titles = [f"“{d['title']}”" for d in self.index.documents]
        if len(titles) > 3:
            return ", ".join(titles[:3]) + f" and {len(titles) - 3} more documents"
        return " and ".join([", ".join(titles[:-1]), titles[-1]]) if len(titles) > 1 else titles[0]

    def suggestions(self) -> list[str]:
        """Checked suggestions; until they are ready, the question headings the indexer found."""
        if self.checked_suggestions is not None:
            return list(self.checked_suggestions)
        return [q for q in self.index.manifest.get("suggestions", []) if q.endswith("?") and "“" not in q]

    def check_docs(self, doc_ids: list[str] | None) -> None:
        unknown = [d for d in doc_ids or () if d not in self.index.doc_rows]
        if unknown:
            raise InvalidRequest(f"unknown doc_ids: {', '.join(unknown)} (GET /api/documents lists them)")

    def documents(self) -> list[dict]:
        keys = ("doc_id", "title", "source", "kind", "path", "chunks", "content_hash", "indexed_at")
        return [{k: d.get(k) for k in keys} for d in self.index.documents]

    def passage(self, row: int) -> dict:
        chunk = self.index.chunks[row]
        return {
            "doc_id": chunk.doc_id,
            "chunk_id": chunk.chunk_id,
            "title": chunk.title,
            "section": chunk.section,
            "source": chunk.source,
            "page": chunk.page,
            "text": chunk.text,
        }


class IndexService:
    """Loads the current index version, swaps in new ones (``reload``, ``watch``) and reports its health.
    ``on_swap`` is called with each new state (the engine starts its background checks there)."""

    def __init__(self, settings: Settings, model_id: str, weights: Weights, on_swap: Callable[[IndexState], None]):
        self.settings = settings
        self.model_id = model_id
        self.weights = weights
        self.on_swap = on_swap
        self.paths = IndexPaths(settings.index_dir)
        self._state: IndexState | None = None
        self._load_error: str | None = None
        self._reload_lock = threading.Lock()

    @property
    def current(self) -> IndexState | None:
        """The state in service, or None (no error raised: for background work and health)."""
        return self._state

    def state(self) -> IndexState:
        state = self._state
        if state is None:
            raise IndexUnavailable(self._public_error())
        return state

    def reload(self, *, force: bool = False) -> bool:
        """Load a newly published index version, if any, and swap it in whole. Returns True on a swap."""
        stamp = self.paths.pointer_stamp()
        if not force and self._state is not None and self._state.stamp == stamp:
            return False
        with self._reload_lock:
            current = self._state
            if not force and current is not None and current.stamp == stamp:
                return False
            try:
                index = load_current(
                    self.settings.index_dir, expected_model=self.model_id, ef_search=self.settings.hnsw_ef_search
                )
            except IndexerError as exc:
                self._load_error = str(exc)
                if current is None:
                    logger.error("no usable index: %s", exc)
                else:
                    logger.error("new index version not loaded, still serving %s: %s", current.index.name, exc)
                return False
            self._state = IndexState.build(index, self.weights, stamp)
            self._load_error = None
            logger.info("serving index version %s (%d chunks)", index.name, len(index.chunks))
            self.on_swap(self._state)
            return True

    def watch(self, stop: threading.Event) -> None:
        """Poll the version pointer and swap in new versions until ``stop`` is set."""
        interval = self.settings.reload_interval_seconds
        while interval > 0 and not stop.wait(interval):
            try:
                self.reload()
            except Exception:  # noqa: BLE001 - the watcher must never die
                logger.exception("index reload failed; still serving the previous version")

    def health(self) -> dict:
        state = self._state
        if state is None:
            return {"status": "unavailable", "detail": self._public_error(), "index": None}
        manifest = state.index.manifest
        recovered = self.paths.current_name() is None
        return {
            "status": "ok",
            "detail": "the CURRENT pointer is missing: serving the newest complete version" if recovered else None,
            "index": {
                "version": state.index.name,
                "documents": manifest["counts"]["documents"],
                "chunks": manifest["counts"]["chunks"],
                "model": manifest["model"]["id"],
                "built_at": manifest.get("built_at"),
            },
        }

    def _public_error(self) -> str:
        """Why no index is served, for visitors: the log has the full text with the folders' paths."""
        text = self._load_error or "no index loaded: build one with `python -m indexer`"
        return re.sub(r"(?<![\w.])/[^\s:;,'\"]+", lambda m: Path(m.group(0)).name or "/", text)
