"""The answering engine: one message from the route to the stored turn, each step called once.

    check the message and session → analyse → fill its slots from the conversation → await its vectors
    → answer (``answerer``: retrieve, compose, decide) → record the turn

It owns the parts: the index in service (``index_service``), the query encoders, the session store, the
background checks after each swap (``background``) and the owners' insights. It knows nothing of HTTP; the
routes in ``server.api`` translate its results and errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from indexer.encoders import make_embedder
from indexer.model import Embedder

from ..errors import InvalidRequest
from ..settings import Settings
from .answerer import ChatResult, Prepared, answer_turn, prepare, resolve_with, turn_texts
from .background import BackgroundChecks
from .batching import AsyncBatcher, MicroBatcher
from .conversation import ConversationState, Resolved
from .coverage import Coverage
from .facts import FactCatalogue
from .fingerprint import fitted_weights
from .index_service import IndexService, IndexState
from .insights import Insights
from .messages import clean_message
from .question import Question, analyse
from .retrieve import interleave, retrieve
from .sessions import Turn, open_session_store
from .vectors import PhraseCache, Vectors
from .weights import WEIGHTS_FILE, Weights

logger = logging.getLogger(__name__)

__all__ = ["ChatResult", "IndexState", "Prepared", "QAEngine"]


@dataclass
class Begun:
    """What a chat turn checked and read first."""

    message: str  # cleaned
    state: IndexState  # the index in service when it began
    session_id: str | None  # the session to continue; None: a new one
    notice: str | None  # why the session asked for was not continued
    conversation: ConversationState  # the conversation so far
    previous: int = 0  # the number of its last turn (0: unknown, or a new session)


class QAEngine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, weights: Weights | None = None):
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.weights = weights or fitted_weights(settings.weights_file or WEIGHTS_FILE)
        self.started = int(time.time())
        self.sessions = open_session_store(settings)
        window = settings.batch_window_ms
        self.encoder = MicroBatcher(self.embedder, window_ms=window) if window > 0 else self.embedder
        self.aencoder = AsyncBatcher(self.embedder)  # for the event loop's routes (achat, asearch)
        self.phrases = PhraseCache()  # vectors of short focus phrases ("tuition", "GRE"), which recur
        self.facts = FactCatalogue.load()
        self.insights = Insights(self.sessions, self.facts, self.encoder.embed, enabled=settings.insights)
        self.index = IndexService(settings, self.embedder.model_id, self.weights, on_swap=self._swapped)
        self.suggest_in_background = False  # the server turns it on: the checks run after each swap
        self.on_answer: Callable[[ChatResult], None] | None = None  # told of every stored turn (the metrics)
        self.background = BackgroundChecks(
            self._ask, self.facts, self.encoder.embed, self.aencoder.quiet_for, lambda: self.index.current
        )

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the model and the current index version (called once, from the app's lifespan)."""
        self.embedder.load()
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.start()
        self.aencoder.prepare()
        self.index.reload(force=True)
        self.sessions.purge_expired()

    def close(self) -> None:
        self.background.close()
        if isinstance(self.encoder, MicroBatcher):
            self.encoder.close()
        self.aencoder.close()
        self.sessions.close()

    def _swapped(self, state: IndexState) -> None:
        if self.suggest_in_background:
            self.background.schedule()

    def reload(self, *, force: bool = False) -> bool:
        return self.index.reload(force=force)

    def watch(self, stop) -> None:
        self.index.watch(stop)

    def state(self) -> IndexState:
        return self.index.state()

    def version(self) -> str | None:
        """The name of the index version in service, if any."""
        state = self.index.current
        return state.index.name if state is not None else None

    def health(self) -> dict:
        return self.index.health()

    def documents(self) -> list[dict]:
        return self.state().documents()

    def covers(self, state: IndexState) -> str:
        return state.covers()

    def suggestions(self) -> list[str]:
        return self.state().suggestions()

    # --- the owners' reports -----------------------------------------------------------------
    def check_suggestions(self, state: IndexState) -> list[str]:
        return self.background.check_suggestions(state)

    def check_coverage(self, state: IndexState) -> Coverage:
        return self.background.check_coverage(state)

    def coverage(self) -> dict:
        """The coverage of the index in service (``status`` says whether it is still being measured)."""
        state = self.state()
        if state.coverage is None:  # the suggestions are checked first
            return Coverage(state.index.name).to_dict(self.facts) | {"status": "pending"}
        return state.coverage.to_dict(self.facts)

    def unanswered(self, days: float) -> dict:
        """The questions refused or rated down in the last ``days``, grouped (see ``Insights.unanswered``)."""
        state = self.index.current
        titles = {d["doc_id"]: d["title"] for d in state.index.documents} if state is not None else {}
        return self.insights.unanswered(days, titles)

    def _ask(self, state: IndexState, text: str, doc_ids: list[str] | None, vectors: Vectors) -> list[dict] | None:
        """A question asked of the index on its own (the background checks): its citations, or None if refused."""
        question = analyse(text, state.linker)
        resolved, _ = turn_texts(state.linker, question, ConversationState())
        result, _ = answer_turn(state, question, resolved, ConversationState(), doc_ids, vectors)
        return result.citations if result.answered else None

    # --- parts of a turn, for calibration and tests -----------------------------------------
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

    def prepare(self, state: IndexState, resolved: Resolved, doc_ids: list[str] | None = None) -> Prepared:
        return prepare(state, resolved, doc_ids, self.vectors())

    def vectors(self, known: dict | None = None) -> Vectors:
        """The query vectors of one turn: those awaited beforehand (``known``), else encoded when read."""
        return Vectors(self.encoder.embed, known)

    # --- search -------------------------------------------------------------------------------
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

    def _check_search(self, query: str, k: int, doc_ids: list[str] | None) -> tuple[str, IndexState]:
        query = clean_message(query, self.settings.max_message_chars, "query")
        if not 1 <= k <= self.settings.search_max_k:
            raise InvalidRequest(f"k must be between 1 and {self.settings.search_max_k}")
        state = self.state()
        state.check_docs(doc_ids)
        return query, state

    def _search(self, state: IndexState, query: str, vector, k: int, doc_ids: list[str] | None) -> list[dict]:
        question = analyse(query, state.linker)
        hits = interleave(retrieve(state.retriever, question, query, vector, k, doc_ids=doc_ids))
        if question.entities and len(hits) < k:
            # The entities' passages first, then the best of the rest of the corpus.
            seen = {h.row for h in hits}
            rest = state.retriever.search(query, vector, k=k, doc_ids=doc_ids)
            hits += [h for h in rest if h.row not in seen][: k - len(hits)]
        return [{"rank": n, "score": round(h.score, 4), **state.passage(h.row)} for n, h in enumerate(hits, start=1)]

    # --- chat: the pipeline -------------------------------------------------------------------
    async def achat(self, message: str, session_id: str | None = None, doc_ids: list[str] | None = None) -> ChatResult:
        """Answer one message of a conversation kept server-side under ``session_id``, on the event loop: the
        vectors the turn reads are awaited from the async batcher, the rest (a few ms of Python) runs inline."""
        begun = self._begin(message, session_id, doc_ids)
        with self.aencoder.serving():
            state, question, resolved, vectors = await self._analysed(begun, doc_ids)
            result, after = answer_turn(state, question, resolved, begun.conversation, doc_ids, vectors)
        result.notice = begun.notice
        return self._record(begun.session_id, begun.message, result, after, previous=begun.previous)

    def chat(self, message: str, session_id: str | None = None, doc_ids: list[str] | None = None) -> ChatResult:
        """``achat`` for synchronous callers (the command line, calibration): vectors encoded as they are read."""
        begun = self._begin(message, session_id, doc_ids)
        question = analyse(begun.message, begun.state.linker)
        resolved, _ = turn_texts(begun.state.linker, question, begun.conversation)
        result, after = answer_turn(begun.state, question, resolved, begun.conversation, doc_ids, self.vectors())
        result.notice = begun.notice
        return self._record(begun.session_id, begun.message, result, after, previous=begun.previous)

    def _begin(self, message: str, session_id: str | None, doc_ids: list[str] | None) -> Begun:
        """The message checked, the index in service, and the session to continue with its conversation (a
        session asked for that is gone starts a new one, with a notice)."""
        message = clean_message(message, self.settings.max_message_chars)
        state = self.state()
        state.check_docs(doc_ids)
        notice = None
        if session_id and not self.sessions.exists(session_id):
            notice = (
                f"session {session_id!r} was not found or has expired; a new conversation was started"
                if self.sessions.available
                else "the conversation history is unavailable right now: this question was answered on its own"
            )
            session_id = None
        last = self.sessions.last(session_id) if session_id else None
        conversation = ConversationState.from_dict(last.state if last else None)
        return Begun(message, state, session_id, notice, conversation, last.n if last else 0)

    async def _analysed(
        self, begun: Begun, doc_ids: list[str] | None
    ) -> tuple[IndexState, Question, Resolved | None, Vectors]:
        """The message analysed once and its slots filled once, with every vector its turn reads; when a new
        index version came in while they were encoded, it is analysed against that one (the vectors stay)."""
        state = begun.state
        question = analyse(begun.message, state.linker)
        resolved, texts = turn_texts(state.linker, question, begun.conversation)
        vectors = await self._awaited(texts)
        if self.index.current is not state:
            state = self.state()
            state.check_docs(doc_ids)
            question = analyse(begun.message, state.linker)
            resolved, _ = turn_texts(state.linker, question, begun.conversation)
        return state, question, resolved, vectors

    async def _awaited(self, texts: list[str]) -> Vectors:
        """The vectors of ``texts`` awaited from the async batcher; focus phrases already encoded come from the
        phrase cache."""
        known = {t: v for t in texts if (v := self.phrases.get(t)) is not None}
        missing = [t for t in texts if t not in known]
        vectors = await self.aencoder.embed(missing) if missing else []
        for text, vector in zip(missing, vectors, strict=True):
            known[text] = vector
            self.phrases.put(text, vector)
        return Vectors(self.encoder.embed, known)

    def _record(
        self,
        session_id: str | None,
        message: str,
        result: ChatResult,
        after: ConversationState,
        new: bool = False,
        previous: int = 0,
    ) -> ChatResult:
        """Store the turn (in a new session when ``session_id`` is None or ``new``; ``previous``: the number of the
        session's last turn, when the caller has read it); the result learns its session and number."""
        new = new or session_id is None
        result.session_id = session_id or self.sessions.new_id()
        cited = list(dict.fromkeys(c["doc_id"] for c in result.citations))
        turn = Turn(message, result.query, "", result.answer, result.answered, cited, after.to_dict())
        turn.reason, turn.asked, turn.unknown = result.reason, result.asked, result.unknown
        result.turn = self.sessions.append(result.session_id, turn, new=new, previous=previous)
        if self.on_answer is not None:
            self.on_answer(result)
        return result

    async def acomplete(
        self, messages: list[str], doc_ids: list[str] | None = None, *, record_as: str | None = None
    ) -> ChatResult:
        """Answer the last of a list of user messages, the earlier ones replayed as the conversation (stateless;
        the answer is stored as turn 1 of session ``record_as`` when given, so that it can be rated).

        Replaying runs the same slot filling as a session, so a client that sends the whole conversation
        (OpenAI-style) gets the same follow-up resolution as the web page. On the event loop, like ``achat``.
        """
        texts = self._replayed(messages)
        state = self.state()
        state.check_docs(doc_ids)
        conversation = ConversationState()
        with self.aencoder.serving():
            for text in texts:
                question = analyse(text, state.linker)
                resolved, needed = turn_texts(state.linker, question, conversation)
                vectors = await self._awaited(needed)
                result, conversation = answer_turn(state, question, resolved, conversation, doc_ids, vectors)
        if record_as is not None:
            self._record(record_as, texts[-1], result, conversation, new=True)
        return result

    def _replayed(self, messages: list[str]) -> list[str]:
        """The messages a stateless request replays, checked: each is answered again, so they have a budget."""
        if not messages:
            raise InvalidRequest("no user message to answer")
        texts = [
            clean_message(m, self.settings.max_message_chars) for m in messages[-self.settings.session_max_turns :]
        ]
        total = sum(len(t) for t in texts)
        if total > self.settings.max_request_chars:
            raise InvalidRequest(
                f"the messages to replay hold {total} characters; the limit is {self.settings.max_request_chars}"
            )
        return texts
