"""The answering library: one object that retrieves, answers, remembers conversations and hot-swaps index versions.

It knows nothing of HTTP; ``server.api`` translates its results and errors.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from indexer.errors import IndexerError
from indexer.model import Embedder, SentenceTransformerEmbedder, resolve_model
from indexer.search import Retriever
from indexer.store import IndexPaths, LoadedIndex, load_current

from .answer import Answer, Answerer
from .batching import MicroBatcher
from .errors import IndexUnavailable, InvalidRequest
from .followup import resolve
from .sessions import SessionStore, Turn
from .settings import Settings
from .smalltalk import small_talk

logger = logging.getLogger(__name__)

RETRIEVE_K = 8
FOCUS_BOOST = 0.03  # follow-ups lean towards the documents the conversation was about


@dataclass
class IndexState:
    """One loaded index version with the objects that read it; replaced whole on reload."""

    index: LoadedIndex
    retriever: Retriever
    answerer: Answerer
    stamp: tuple[str | None, float]


@dataclass
class ChatResult:
    session_id: str
    answer: str
    answered: bool
    query: str
    citations: list[dict] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notice: str | None = None


class QAEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or SentenceTransformerEmbedder(resolve_model(settings.model))
        self.paths = IndexPaths(settings.index_dir)
        self.sessions = SessionStore(
            settings.session_db, ttl_seconds=settings.session_ttl_hours * 3600, max_turns=settings.session_max_turns
        )
        self._state: IndexState | None = None
        self._load_error: str | None = None
        self._reload_lock = threading.Lock()
        self.encoder = (
            MicroBatcher(self.embedder, window_ms=settings.batch_window_ms)
            if settings.batch_window_ms > 0
            else self.embedder
        )

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the model and the current index version (called once, from the app's lifespan)."""
        if hasattr(self.embedder, "load"):
            self.embedder.load()
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.start()
        self.reload(force=True)
        self.sessions.purge_expired()

    def close(self) -> None:
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.close()
        self.sessions.close()

    def reload(self, *, force: bool = False) -> bool:
        """Load a newly published index version, if any, and swap it in whole. Returns True on a swap."""
        stamp = self.paths.pointer_stamp()
        current = self._state
        if not force and current is not None and current.stamp == stamp:
            return False
        with self._reload_lock:
            current = self._state
            if not force and current is not None and current.stamp == stamp:
                return False
            try:
                index = load_current(
                    self.settings.index_dir,
                    expected_model=self.embedder.model_id,
                    ef_search=self.settings.hnsw_ef_search,
                )
            except IndexerError as exc:
                self._load_error = str(exc)
                if current is None:
                    logger.error("no usable index: %s", exc)
                else:
                    logger.error("new index version not loaded, still serving %s: %s", current.index.name, exc)
                return False
            self._state = IndexState(index, Retriever(index), Answerer(index), stamp)
            self._load_error = None
            logger.info("serving index version %s (%d chunks)", index.name, len(index.chunks))
            return True

    def state(self) -> IndexState:
        state = self._state
        if state is None:
            raise IndexUnavailable(self._load_error or "no index loaded: build one with `python -m indexer`")
        return state

    # --- queries --------------------------------------------------------------------------
    def _check_docs(self, state: IndexState, doc_ids: list[str] | None) -> None:
        if doc_ids:
            unknown = [d for d in doc_ids if d not in state.index.doc_rows]
            if unknown:
                raise InvalidRequest(f"unknown doc_ids: {', '.join(unknown)} (GET /api/documents lists them)")

    def _check_message(self, message: str, what: str = "message") -> str:
        text = (message or "").strip()
        if not text:
            raise InvalidRequest(f"{what} is empty")
        if len(text) > self.settings.max_message_chars:
            raise InvalidRequest(f"{what} is {len(text)} characters; the limit is {self.settings.max_message_chars}")
        return text

    def search(self, query: str, k: int = 5, doc_ids: list[str] | None = None) -> list[dict]:
        query = self._check_message(query, "query")
        if not 1 <= k <= self.settings.search_max_k:
            raise InvalidRequest(f"k must be between 1 and {self.settings.search_max_k}")
        state = self.state()
        self._check_docs(state, doc_ids)
        vector = self.encoder.embed([query])[0]
        hits = state.retriever.search(query, vector, k=k, doc_ids=doc_ids)
        out = []
        for rank, hit in enumerate(hits, start=1):
            out.append({"rank": rank, "score": round(hit.score, 4), **self._passage(state, hit.row)})
        return out

    @staticmethod
    def _passage(state: IndexState, row: int) -> dict:
        chunk = state.index.chunks[row]
        return {
            "doc_id": chunk.doc_id,
            "chunk_id": chunk.chunk_id,
            "title": chunk.title,
            "section": chunk.section,
            "source": chunk.source,
            "page": chunk.page,
            "text": chunk.text,
        }

    def covers(self, state: IndexState) -> str:
        titles = [f"“{d['title']}”" for d in state.index.documents]
        if len(titles) > 3:
            return ", ".join(titles[:3]) + f" and {len(titles) - 3} more documents"
        return " and ".join([", ".join(titles[:-1]), titles[-1]]) if len(titles) > 1 else titles[0]

    def suggestions(self) -> list[str]:
        return list(self.state().index.manifest.get("suggestions", []))

    def chat(self, message: str, session_id: str | None = None, doc_ids: list[str] | None = None) -> ChatResult:
        message = self._check_message(message)
        state = self.state()
        self._check_docs(state, doc_ids)
        notice = None
        if session_id and not self.sessions.exists(session_id):
            notice = f"session {session_id!r} was not found or has expired; a new session was started"
            session_id = None
        session_id = session_id or self.sessions.new_id()

        reply = small_talk(message, self.covers(state))
        if reply is not None:
            self.sessions.append(session_id, Turn(message, message, "", reply, True))
            return ChatResult(session_id, reply, True, message, suggestions=self.suggestions(), notice=notice)

        history = self.sessions.history(session_id)
        query, topic, followup = resolve(message, history)
        vector = self.encoder.embed([query])[0]
        boost = None
        if followup and history:
            boost = dict.fromkeys(history[-1].doc_ids, FOCUS_BOOST)
        hits = state.retriever.search(query, vector, k=RETRIEVE_K, doc_ids=doc_ids, boost_docs=boost)
        reason = state.answerer.refusal_reason(message if not followup else query, hits)
        answer = (
            Answer("", False, [], reason)
            if reason
            else state.answerer.compose(message, vector, hits, lexical_query=query)
        )
        if not answer.answered:
            result = self._refusal(state, session_id, query, answer.reason, notice)
            self.sessions.append(session_id, Turn(message, query, "", result.answer, False))
            return result
        citations = []
        for cite in answer.citations:
            passage = self._passage(state, cite.row)
            citations.append(
                {"n": cite.n, **passage, "score": round(cite.score, 4), "quotes": [list(q) for q in cite.quote]}
            )
        doc_ids_cited = list(dict.fromkeys(c["doc_id"] for c in citations))
        self.sessions.append(session_id, Turn(message, query, topic, answer.text, True, doc_ids_cited))
        return ChatResult(session_id, answer.text, True, query, citations, notice=notice)

    def _refusal(self, state: IndexState, session_id: str, query: str, reason: str, notice: str | None) -> ChatResult:
        suggestions = self.suggestions()[:4]
        text = f"I couldn't find an answer to that in the documents I have. They cover {self.covers(state)}."
        if suggestions:
            text += " You could ask: " + " · ".join(suggestions)
        logger.info("abstained (%s): %r", reason, query)
        return ChatResult(session_id, text, False, query, [], suggestions, notice)

    def documents(self) -> list[dict]:
        state = self.state()
        return [
            {
                "doc_id": d["doc_id"],
                "title": d["title"],
                "source": d["source"],
                "kind": d.get("kind"),
                "path": d.get("path"),
                "chunks": d["chunks"],
                "content_hash": d["content_hash"],
                "indexed_at": d["indexed_at"],
            }
            for d in state.index.documents
        ]

    def health(self) -> dict:
        state = self._state
        if state is None:
            return {"status": "unavailable", "detail": self._load_error or "no index loaded", "index": None}
        manifest = state.index.manifest
        return {
            "status": "ok",
            "index": {
                "version": state.index.name,
                "documents": manifest["counts"]["documents"],
                "chunks": manifest["counts"]["chunks"],
                "model": manifest["model"]["id"],
                "built_at": manifest.get("built_at"),
            },
        }

    def watch(self, stop: threading.Event) -> None:
        """Poll the version pointer and swap in new versions until ``stop`` is set."""
        interval = self.settings.reload_interval_seconds
        while interval > 0 and not stop.wait(interval):
            try:
                self.reload()
            except Exception:  # noqa: BLE001 - the watcher must never die
                logger.exception("index reload failed; still serving the previous version")
