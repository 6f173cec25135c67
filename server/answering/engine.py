"""The answering engine: analyse, fill slots from the conversation, retrieve, compose or refuse; hot-swap indexes.

It knows nothing of HTTP; the routes in ``server.api`` translate its results and errors.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.encoders import make_embedder
from indexer.errors import IndexerError
from indexer.model import Embedder
from indexer.search import Hit, Retriever
from indexer.store import IndexPaths, LoadedIndex, load_current

from ..errors import IndexUnavailable, InvalidRequest
from ..settings import Settings
from .batching import AsyncBatcher, MicroBatcher
from .compose import Candidate, Composer
from .conversation import ConversationState, Resolved, resolve, stands_alone, update
from .coverage import Coverage, measure
from .entities import CorpusTerms, EntityLinker
from .facts import FactCatalogue
from .fingerprint import fitted_weights
from .insights import Insights
from .messages import clean_message
from .question import Question, analyse, compound_parts, content_tokens, focus_words
from .refuse import Refusal, Refuser
from .retrieve import interleave, retrieve
from .sessions import SessionStore, Turn
from .suggest import candidates as suggestion_candidates
from .suggest import verified
from .weights import WEIGHTS_FILE, Weights

logger = logging.getLogger(__name__)

RETRIEVE_K = 8
SUGGEST_PAUSE_SECONDS = 0.005  # between two checks in the background (suggestions, coverage)
BACKGROUND_YIELD_SECONDS = 0.25  # a background check waits up to this long for the requests to pause
BACKGROUND_QUIET_SECONDS = 0.004  # ... for a pause this long with no request in flight


@dataclass
class IndexState:
    """One loaded index version with the objects that read it; replaced whole on reload."""

    index: LoadedIndex
    retriever: Retriever
    linker: EntityLinker
    composer: Composer
    refuser: Refuser
    stamp: tuple[str | None, float]
    suggestions: list[str] | None = None  # checked by answering them; None until that has run
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


@dataclass
class Prepared:
    resolved: Resolved
    groups: list[list[Hit]]
    hits: list[Hit]
    candidates: list[Candidate]
    chosen: list[Candidate]
    refusal: Refusal | None
    decision: dict[str, float]


@dataclass
class ChatResult:
    session_id: str
    answer: str
    answered: bool
    query: str
    citations: list[dict] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notice: str | None = None
    turn: int = 0  # its number in the session (feedback names it)
    reason: str | None = None  # why it was refused (for logs and the owners' insights)
    asked: list[str] = field(default_factory=list)  # the documents the question was about
    unknown: list[str] = field(default_factory=list)  # names asked about that no document matches


class QAEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, weights: Weights | None = None):
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.paths = IndexPaths(settings.index_dir)
        self.sessions = SessionStore(
            settings.session_db,
            ttl_seconds=settings.session_ttl_hours * 3600,
            max_turns=settings.session_max_turns,
            record_questions=settings.insights,
            retention_days=settings.insights_retention_days,
        )
        self.weights = weights or fitted_weights(settings.weights_file or WEIGHTS_FILE)
        self._state: IndexState | None = None
        self.started = int(time.time())
        self._load_error: str | None = None
        self._reload_lock = threading.Lock()
        self.suggest_in_background = False  # the server turns it on: suggestions are checked after each swap
        self.encoder = (
            MicroBatcher(self.embedder, window_ms=settings.batch_window_ms)
            if settings.batch_window_ms > 0
            else self.embedder
        )
        self.aencoder = AsyncBatcher(self.embedder)  # for the event loop's routes (achat, asearch)
        self.phrases = PhraseCache()  # vectors of short focus phrases ("tuition", "GRE"), which recur
        self.facts = FactCatalogue.load()
        self.insights = Insights(self.sessions, self.facts, self.encoder.embed, enabled=settings.insights)
        self._stopping = threading.Event()  # set by close: background work over documents stops
        self._suggest_lock = threading.Lock()
        self._suggester: threading.Thread | None = None
        self._suggest_wanted = False

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the model and the current index version (called once, from the app's lifespan)."""
        self.embedder.load()
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.start()
        self.aencoder.prepare()
        self.reload(force=True)
        self.sessions.purge_expired()

    def close(self) -> None:
        self._stopping.set()
        suggester = self._suggester
        if suggester is not None:
            suggester.join(timeout=10)  # one check at most: never mid-encode when the interpreter exits
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.close()
        self.aencoder.close()
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
            self._state = IndexState.build(index, self.weights, stamp)
            self._load_error = None
            logger.info("serving index version %s (%d chunks)", index.name, len(index.chunks))
            if self.suggest_in_background:
                self._schedule_suggestions()
            return True

    def _schedule_suggestions(self) -> None:
        """Check the suggestions of the index in service in one background thread: never two runs at once (a
        swap during a run makes the runner check the newest version next), stopped by ``close``."""
        with self._suggest_lock:
            self._suggest_wanted = True
            if self._suggester is not None and self._suggester.is_alive():
                return
            self._suggester = threading.Thread(target=self._suggest_loop, name="suggest", daemon=True)
            self._suggester.start()

    def _suggest_loop(self) -> None:
        while not self._stopping.is_set():
            with self._suggest_lock:
                if not self._suggest_wanted:
                    self._suggester = None
                    return
                self._suggest_wanted = False
            state = self._state
            if state is not None:
                self.check_suggestions(state)
            if state is not None and self._state is state:
                self.check_coverage(state)

    def check_suggestions(self, state: IndexState) -> list[str]:
        """Draw suggested questions from the index and keep those answered from their own page."""

        def answers(question: str) -> list[str] | None:
            result, _, _ = self._turn(state, question, ConversationState(), None, self.vectors())
            return [c["doc_id"] for c in result.citations] if result.answered else None

        try:
            pool = suggestion_candidates(state.index)
            state.suggestions = verified(state.index, answers, go_on=self._background_go_on(state), pool=pool)
            state.suggestion_docs = {c.question: c.doc_id for c in pool}
        except Exception:  # noqa: BLE001 - suggestions are a nicety; answering goes on without them
            logger.exception("checking suggested questions failed")
            state.suggestions = []
        logger.debug("%d suggested questions checked for %s", len(state.suggestions), state.index.name)
        return state.suggestions

    def _background_go_on(self, state: IndexState):
        def go_on() -> bool:
            # Between two checks: stop on shutdown or once another version is in service; pause, and wait for a
            # pause in the requests (up to a bound, so that the checks end under steady load): a check is a few
            # ms of Python that would hold the interpreter a request is waiting for.
            if self._stopping.wait(SUGGEST_PAUSE_SECONDS):
                return False
            deadline = time.monotonic() + BACKGROUND_YIELD_SECONDS
            while self.aencoder.quiet_for() < BACKGROUND_QUIET_SECONDS and time.monotonic() < deadline:
                if self._stopping.wait(0.001):
                    return False
            return self._state is state

        return go_on

    def check_coverage(self, state: IndexState) -> Coverage:
        """Ask each document of the index the facts students most often ask (scoped to that document, answered
        by the same model as the chat); readers see the documents done so far."""
        vectors = self.vectors()  # the same few questions for every document: each encoded once

        def ask(question: str, doc_id: str) -> list[str] | None:
            result, _, _ = self._turn(state, question, ConversationState(), [doc_id], vectors)
            if not result.answered:
                return None
            return [c["text"][a:b] for c in result.citations if c["doc_id"] == doc_id for a, b in c["quotes"]]

        state.coverage = Coverage(state.index.name)
        try:
            measure(state.index, self.facts, ask, self.encoder.embed, self._background_go_on(state), state.coverage)
        except Exception:  # noqa: BLE001 - the owners' report must never take answering down
            logger.exception("measuring the documents' coverage failed")
        return state.coverage

    def coverage(self) -> dict:
        """The coverage of the index in service (``complete`` False while it is being measured)."""
        state = self.state()
        if state.coverage is None:  # the suggestions are checked first
            return Coverage(state.index.name).to_dict(self.facts) | {"status": "pending"}
        return state.coverage.to_dict(self.facts)

    def unanswered(self, days: float) -> dict:
        """The questions refused or rated down in the last ``days``, grouped (see ``Insights.unanswered``)."""
        state = self._state
        titles = {d["doc_id"]: d["title"] for d in state.index.documents} if state is not None else {}
        return self.insights.unanswered(days, titles)

    def version(self) -> str | None:
        """The name of the index version in service, if any."""
        state = self._state
        return state.index.name if state is not None else None

    def state(self) -> IndexState:
        state = self._state
        if state is None:
            raise IndexUnavailable(self._public_error())
        return state

    def _public_error(self) -> str:
        """Why no index is served, for visitors: the log has the full text with the folders' paths."""
        text = self._load_error or "no index loaded: build one with `python -m indexer`"
        return re.sub(r"(?<![\w.])/[^\s:;,'\"]+", lambda m: Path(m.group(0)).name or "/", text)

    # --- queries --------------------------------------------------------------------------
    def _check_docs(self, state: IndexState, doc_ids: list[str] | None) -> None:
        if doc_ids:
            unknown = [d for d in doc_ids if d not in state.index.doc_rows]
            if unknown:
                raise InvalidRequest(f"unknown doc_ids: {', '.join(unknown)} (GET /api/documents lists them)")

    def _check_message(self, message: str, what: str = "message") -> str:
        return clean_message(message, self.settings.max_message_chars, what)

    def vectors(self, known: dict | None = None) -> Vectors:
        """The query vectors of one turn: those awaited beforehand (``known``), else encoded when read."""
        return Vectors(self.encoder.embed, known)

    def _check_search(self, query: str, k: int, doc_ids: list[str] | None) -> tuple[str, IndexState]:
        query = self._check_message(query, "query")
        if not 1 <= k <= self.settings.search_max_k:
            raise InvalidRequest(f"k must be between 1 and {self.settings.search_max_k}")
        state = self.state()
        self._check_docs(state, doc_ids)
        return query, state

    def search(self, query: str, k: int = 5, doc_ids: list[str] | None = None) -> list[dict]:
        """The k best passages; when the query names schools or programs, their passages come first."""
        query, state = self._check_search(query, k, doc_ids)
        return self._search(state, query, self.encoder.embed([query])[0], k, doc_ids)

    async def asearch(self, query: str, k: int = 5, doc_ids: list[str] | None = None) -> list[dict]:
        """``search`` for the event loop: the query vector comes from the async batcher."""
        query, state = self._check_search(query, k, doc_ids)
        with self.aencoder.serving():
            vector = (await self.aencoder.embed([query]))[0]
            return self._search(state, query, vector, k, doc_ids)

    def _search(self, state: IndexState, query: str, vector, k: int, doc_ids: list[str] | None) -> list[dict]:
        question = analyse(query, state.linker)
        hits = interleave(retrieve(state.retriever, question, query, vector, k, doc_ids=doc_ids))
        if question.entities and len(hits) < k:
            # The entities' passages first, then the best of the rest of the corpus.
            seen = {h.row for h in hits}
            rest = state.retriever.search(query, vector, k=k, doc_ids=doc_ids)
            hits += [h for h in rest if h.row not in seen][: k - len(hits)]
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
        """Checked suggestions; until they are ready, the question headings the indexer found."""
        state = self.state()
        if state.suggestions is not None:
            return list(state.suggestions)
        return [q for q in state.index.manifest.get("suggestions", []) if q.endswith("?") and "“" not in q]

    def analyse(self, message: str) -> Question:
        """The typed analysis of one message against the index in service."""
        return analyse(message, self.state().linker)

    def conversation(self, session_id: str) -> ConversationState:
        """The state of a conversation after its last turn (empty for a new one)."""
        last = self.sessions.last(session_id)
        return ConversationState.from_dict(last.state if last else None)

    def resolve(self, question: Question, session_id: str) -> Resolved:
        """The question with its missing slots filled from the conversation so far."""
        return resolve_with(self.state().linker, question, self.conversation(session_id))

    async def achat(self, message: str, session_id: str | None = None, doc_ids: list[str] | None = None) -> ChatResult:
        """``chat`` for the event loop: the query vectors it will need are awaited from the async batcher
        (one encode in flight, concurrent requests batched), then the answer is composed inline."""
        message, state, session_id, notice, conversation = self._begin(message, session_id, doc_ids)
        question = analyse(message, state.linker)
        with self.aencoder.serving():
            resolved, vectors = await self._prefetch(state, question, conversation)
            if self._state is not state:  # a new index version came in while the vectors were computed
                state = self.state()
                self._check_docs(state, doc_ids)
                question, resolved = analyse(message, state.linker), None
            return self._chat(state, message, session_id, notice, conversation, doc_ids, vectors, question, resolved)

    async def _prefetch(
        self, state: IndexState, question: Question, conversation: ConversationState
    ) -> tuple[Resolved | None, Vectors]:
        """The resolved question (None for small talk) and every vector the turn will read (see ``turn_texts``),
        awaited from the async batcher; focus phrases already encoded come from the phrase cache."""
        resolved, texts = turn_texts(state.linker, question, conversation)
        known = {t: v for t in texts if (v := self.phrases.get(t)) is not None}
        missing = [t for t in texts if t not in known]
        vectors = await self.aencoder.embed(missing) if missing else []
        for text, vector in zip(missing, vectors, strict=True):
            known[text] = vector
            self.phrases.put(text, vector)
        return resolved, Vectors(self.encoder.embed, known)

    def chat(self, message: str, session_id: str | None = None, doc_ids: list[str] | None = None) -> ChatResult:
        """Answer one message of a conversation kept server-side under ``session_id``."""
        message, state, session_id, notice, conversation = self._begin(message, session_id, doc_ids)
        return self._chat(state, message, session_id, notice, conversation, doc_ids, self.vectors())

    def _begin(
        self, message: str, session_id: str | None, doc_ids: list[str] | None
    ) -> tuple[str, IndexState, str | None, str | None, ConversationState]:
        """What a chat turn checks and reads first: the message, the index in service, the session to continue
        (None: a new one) with the notice when the one asked for is gone, and its conversation so far."""
        message = self._check_message(message)
        state = self.state()
        self._check_docs(state, doc_ids)
        notice = None
        if session_id and not self.sessions.exists(session_id):
            notice = f"session {session_id!r} was not found or has expired; a new conversation was started"
            session_id = None
        conversation = self.conversation(session_id) if session_id else ConversationState()
        return message, state, session_id, notice, conversation

    def _chat(
        self,
        state: IndexState,
        message: str,
        session_id: str | None,
        notice: str | None,
        conversation: ConversationState,
        doc_ids: list[str] | None,
        vectors: Vectors,
        question: Question | None = None,
        resolved: Resolved | None = None,
    ) -> ChatResult:
        """One turn answered and stored (a new session when ``session_id`` is None)."""
        result, _, after = self._turn(state, message, conversation, doc_ids, vectors, question, resolved)
        result.notice = notice
        return self._record(session_id, message, result, after)

    def _record(
        self, session_id: str | None, message: str, result: ChatResult, after: ConversationState, new: bool = False
    ) -> ChatResult:
        """Store the turn (in a new session when ``session_id`` is None or ``new``); the result learns its session
        and number."""
        new = new or session_id is None
        result.session_id = session_id or self.sessions.new_id()
        cited = list(dict.fromkeys(c["doc_id"] for c in result.citations))
        turn = Turn(message, result.query, "", result.answer, result.answered, cited, after.to_dict())
        turn.reason, turn.asked, turn.unknown = result.reason, result.asked, result.unknown
        result.turn = self.sessions.append(result.session_id, turn, new=new)
        return result

    async def acomplete(
        self, messages: list[str], doc_ids: list[str] | None = None, *, record_as: str | None = None
    ) -> ChatResult:
        """Answer the last of a list of user messages, the earlier ones replayed as the conversation (stateless;
        the answer is stored as turn 1 of session ``record_as`` when given, so that it can be rated).

        Replaying runs the same slot filling as a session, so a client that sends the whole conversation
        (OpenAI-style) gets the same follow-up resolution as the web page. On the event loop, like ``achat``:
        each turn's vectors are awaited from the async batcher.
        """
        if not messages:
            raise InvalidRequest("no user message to answer")
        texts = [self._check_message(m) for m in messages[-self.settings.session_max_turns :]]
        total = sum(len(t) for t in texts)
        if total > self.settings.max_request_chars:
            # Each message is answered again to rebuild the conversation: the whole request has a budget.
            raise InvalidRequest(
                f"the messages to replay hold {total} characters; the limit is {self.settings.max_request_chars}"
            )
        state = self.state()
        self._check_docs(state, doc_ids)
        conversation = ConversationState()
        with self.aencoder.serving():
            for text in texts:
                question = analyse(text, state.linker)
                resolved, vectors = await self._prefetch(state, question, conversation)
                result, _, conversation = self._turn(state, text, conversation, doc_ids, vectors, question, resolved)
        if record_as is not None:
            self._record(record_as, texts[-1], result, conversation, new=True)
        return result

    def _turn(
        self,
        state: IndexState,
        message: str,
        conversation: ConversationState,
        doc_ids: list[str] | None,
        vectors: Vectors,
        question: Question | None = None,
        resolved: Resolved | None = None,
    ) -> tuple[ChatResult, Resolved, ConversationState]:
        """One message answered against a conversation state (``resolved`` when the caller has filled its slots
        already); returns the result and the state after it."""
        question = question or analyse(message, state.linker)
        if question.small_talk:
            reply = small_talk_reply(question.small_talk, self.covers(state))
            result = ChatResult("", reply, True, message, suggestions=self.suggestions())
            return result, Resolved(question, message), conversation
        resolved = resolved or resolve_with(state.linker, question, conversation)
        result = self._answer(state, resolved, doc_ids, vectors)
        moved = False
        if not result.answered and resolved.inherited_entity and stands_alone(question):
            # The entity in focus was a soft default: a question its documents cannot answer is tried on its own.
            alone = Resolved(question, question.text)
            retry = self._answer(state, alone, doc_ids, vectors)
            if retry.answered:
                # The topic moves to the pages quoted only when the message names its own subject ("And what do
                # lawyers earn?"); a bare question answered elsewhere leaves the entity in focus as it was.
                resolved, result, moved = alone, retry, bool(question.earners or question.entities)
        after = update(conversation, resolved, result.answered)
        if result.answered and (moved or not after.entities) and result.citations:
            # Nothing named ("What do health services managers earn?"): the pages just quoted are the topic
            # in focus for a follow-up ("And how fast is the field growing?"), unnamed, as a soft default.
            after.entities = [sorted({c["doc_id"] for c in result.citations})]
            after.names = []
        return result, resolved, after

    def prepare(
        self, state: IndexState, resolved: Resolved, doc_ids: list[str] | None = None, vectors: Vectors | None = None
    ) -> Prepared:
        """Everything the answer-or-refuse decision reads: retrieval per entity, scored units, the choice."""
        question = resolved.question
        refusal = state.refuser.before_retrieval(question)
        if refusal is not None:
            return Prepared(resolved, [], [], [], [], refusal, {})
        vectors = vectors or self.vectors()
        search, focus = query_texts(resolved)
        vector = vectors(search)
        groups = retrieve(state.retriever, question, search, vector, RETRIEVE_K, doc_ids=doc_ids)
        hits = interleave(groups)
        candidates = state.composer.candidates(question, vector, groups, vectors(focus))
        chosen = state.composer.choose(question, candidates, len(groups))
        refusal, feats = state.refuser.after_composition(question, hits, candidates, chosen)
        return Prepared(resolved, groups, hits, candidates, chosen, refusal, feats)

    def _parts(
        self, state: IndexState, question: Question, parts: list[str], doc_ids: list[str] | None, vectors: Vectors
    ) -> list[tuple[Question, Prepared]]:
        """The answered parts of a two-part question ("What's the median salary, and what can senior ones
        earn?"): each part analysed on its own, the entity of the whole kept where a part names none."""
        out = []
        for part in parts:
            q = analyse(part, state.linker)
            if not q.entities and question.entities:
                q = q.with_(entities=question.entities, compare=question.compare)
            prepared = self.prepare(state, Resolved(q, part), doc_ids, vectors)
            if prepared.refusal is None:
                out.append((q, prepared))
        return out

    def _answer(self, state: IndexState, resolved: Resolved, doc_ids: list[str] | None, vectors: Vectors) -> ChatResult:
        question, query = resolved.question, resolved.query
        texts = compound_parts(question.text)
        parts = self._parts(state, question, texts, doc_ids, vectors) if len(texts) > 1 else []
        if len(parts) > 1:
            units, more, quoted = [], {}, set()
            for q, prepared in parts:
                got, extra = state.composer.with_context(q, prepared.chosen)
                units += [u for u in got if (u.row, u.unit) not in quoted]
                quoted |= {(u.row, u.unit) for u in got}
                more.update(extra)
            answer = state.composer.render(units, more)
        else:
            prepared = self.prepare(state, resolved, doc_ids, vectors)
            if prepared.refusal is not None:
                return self._refusal(state, query, prepared.refusal, question)
            units, more = state.composer.with_context(question, prepared.chosen)
            answer = state.composer.render(units, more)
        citations = []
        for cite in answer.citations:
            passage = self._passage(state, cite.row)
            citations.append(
                {"n": cite.n, **passage, "score": round(cite.score, 4), "quotes": [list(q) for q in cite.quote]}
            )
        return ChatResult("", answer.text, True, query, citations, asked=sorted(question.doc_ids))

    def _refusal(self, state: IndexState, query: str, refusal: Refusal, question: Question) -> ChatResult:
        suggestions = nearest_suggestions(self.suggestions(), question, state.suggestion_docs)[:4]
        text = refusal.message
        if "They cover" not in text:
            text += f" They cover {self.covers(state)}."
        logger.info("abstained (%s): %r", refusal.reason, query)
        return ChatResult(
            "",
            text,
            False,
            query,
            [],
            suggestions,
            reason=refusal.reason,
            asked=sorted(question.doc_ids),
            unknown=question.unknown_subjects,
        )

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

    def watch(self, stop: threading.Event) -> None:
        """Poll the version pointer and swap in new versions until ``stop`` is set."""
        interval = self.settings.reload_interval_seconds
        while interval > 0 and not stop.wait(interval):
            try:
                self.reload()
            except Exception:  # noqa: BLE001 - the watcher must never die
                logger.exception("index reload failed; still serving the previous version")


class PhraseCache:
    """Vectors of short phrases (at most ``max_words`` words: the focus phrases students repeat), the least
    recently used dropped past ``size``. Whole questions are not kept: each is encoded afresh."""

    def __init__(self, size: int = 4096, max_words: int = 4):
        self.size, self.max_words = size, max_words
        self._items: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str):
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector) -> None:
        if len(text.split()) > self.max_words:
            return
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Vectors:
    """The query vectors one turn reads, by text: given beforehand (``known``, awaited on the event loop), or
    encoded by ``encode`` when first read (synchronous callers). A text that was to be given and was not
    (``turn_texts`` lists every text a turn reads) is encoded anyway, counted in ``missed`` and logged."""

    def __init__(self, encode, known: dict | None = None):
        self._encode = encode
        self._known = dict(known or {})
        self._prepared = known is not None
        self.missed = 0

    def __call__(self, text: str):
        vector = self._known.get(text)
        if vector is None:
            if self._prepared:
                self.missed += 1
                logger.warning("a query vector was not prepared before the turn: %r", text)
            vector = self._known[text] = self._encode([text])[0]
        return vector


def query_texts(resolved: Resolved) -> tuple[str, str]:
    """What a resolved question encodes: the text it searches with, and its focus as written (the phrase whose
    meaning units are scored against; the search text when it has no focus)."""
    question = resolved.question
    return resolved.text, focus_words(question.text, question.focus) or resolved.text


def resolve_with(linker: EntityLinker, question: Question, conversation: ConversationState) -> Resolved:
    """``conversation.resolve`` with what the corpus knows: which documents use a word, which share a school."""
    return resolve(question, conversation, linker.terms.used_in, linker.same_school)


def turn_texts(
    linker: EntityLinker, question: Question, conversation: ConversationState
) -> tuple[Resolved | None, list[str]]:
    """The resolved question (None for small talk) and every text its turn encodes: the resolved question, its
    retry on its own, each part of a two-part one."""
    if question.small_talk:
        return None, []
    resolved = resolve_with(linker, question, conversation)
    asked = [resolved]
    if resolved.inherited_entity and stands_alone(question):
        asked.append(Resolved(question, question.text))
    parts = compound_parts(question.text)
    if len(parts) > 1:
        asked += [Resolved(analyse(part, linker), part) for part in parts]
    return resolved, list(dict.fromkeys(text for r in asked for text in query_texts(r)))


def nearest_suggestions(suggestions: list[str], question: Question, docs: dict[str, str]) -> list[str]:
    """Suggestions under a refusal: those about the documents asked about first, then those sharing most words
    with the question, the rest in their order (a refusal never offers the same four whatever was asked)."""
    asked = set(question.tokens)
    wanted = question.doc_ids

    def key(item: tuple[int, str]) -> tuple[bool, int, int]:
        order, text = item
        return (docs.get(text) not in wanted, -len(asked & set(content_tokens(text))), order)

    return [text for _, text in sorted(enumerate(suggestions), key=key)]


def small_talk_reply(kind: str, covers: str) -> str:
    """A short friendly reply to a greeting, thanks, goodbye or "what can you do?"."""
    if kind == "greeting":
        return f"Hello! Ask me about {covers}. Every answer quotes the documents and cites its sources."
    if kind == "thanks":
        return "You're welcome! Ask another question whenever you like."
    if kind == "bye":
        return "Goodbye, and good luck with your plans!"
    return (
        f"I answer questions from a small library of documents: {covers}. "
        "I quote the passages I use and number the sources, so you can check every answer."
    )
