"""Micro-batching of query embeddings: concurrent requests share one encode call.

``MicroBatcher`` serves blocking callers (threads); ``AsyncBatcher`` serves the event loop's routes. On
2 cores, encoding 32 queries at once costs about six single encodes, so under load queries that wait
are encoded together; a lone query is encoded at once, with no added latency when idle.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import queue
import threading
import time
from concurrent.futures import Future

import numpy as np

logger = logging.getLogger(__name__)


class MicroBatcher:
    def __init__(self, embedder, *, max_batch: int = 32, window_ms: float = 2.0):
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.max_batch = max_batch
        self.window = window_ms / 1000.0
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._encoding = threading.Lock()  # held by whoever is encoding: the worker or a lone caller
        self.batches = 0
        self.texts = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="query-encoder", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stopped.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if self._thread is None or self._stopped.is_set():
            return self.embedder.embed(texts)
        if self._queue.empty() and self._encoding.acquire(blocking=False):
            try:  # nobody waiting and nothing encoding: encode here
                return self.embedder.embed(texts)
            finally:
                self._encoding.release()
        future: Future = Future()
        self._queue.put((texts, future))
        return future.result(timeout=60)

    def _work(self) -> None:
        while not self._stopped.is_set():
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            crowded = not self._queue.empty()
            deadline = time.monotonic() + (self.window if crowded else 0.0)
            while sum(len(t) for t, _ in batch) < self.max_batch:
                try:
                    remaining = deadline - time.monotonic()
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._stopped.set()
                    break
                batch.append(item)
            with self._encoding:
                results = encode_each(self.embedder.embed, [texts for texts, _ in batch])
            self.batches += 1
            self.texts += sum(len(texts) for texts, _ in batch)
            for (_, future), (vectors, error) in zip(batch, results, strict=True):
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(vectors)


class AsyncBatcher:
    """Query embeddings for coroutines, encoded in batches by worker threads.

    The requests a loop iteration brings are handed over together at its end (one hand-over per
    iteration, not per request). A worker starts its next batch by itself: it never waits for the event
    loop, which may be busy composing answers, and the loop hears back once per batch (ONNX Runtime and
    PyTorch release the GIL while they encode, so the loop goes on analysing and composing meanwhile).

    A lone query is encoded on every core. Under load, an ONNX encoder with a one-core session
    (``open_single_thread``) runs one worker per core, each encoding its own batch on one core: whatever
    core the loop leaves idle encodes. Otherwise one worker encodes on every core, one batch at a time.
    """

    def __init__(self, embedder, *, max_batch: int = 32):
        self.embedder = embedder
        self.max_batch = max_batch
        self._pending: list[tuple[list[str], asyncio.Future]] = []  # this loop iteration's requests
        self._handing_over = False
        self._lock = threading.Lock()  # guards the fields below
        self._idle: list[threading.Condition] = []  # the idle workers' wake-ups, the last one to go idle last
        self._waiting: collections.deque = collections.deque()  # (texts, future, loop), oldest first
        self._encoding = 0  # workers encoding now
        self._started = 0  # worker threads started
        self._closed = False
        self.active = 0  # requests between their encode and their answer (see ``serving``); read by workers
        self.last_served = 0.0  # time.monotonic() when the last request in flight was answered
        # Once an ONNX encoder's one-core session is open (``prepare``), each worker encodes on one core and
        # one worker per core may encode at once; until then, and for PyTorch, one worker on every core.
        self._one_core = False
        self._parallel = 1
        self.batches = 0
        self.texts = 0

    @contextlib.contextmanager
    def serving(self):
        """Count a request in flight from before its encode until its answer is ready (on the loop)."""
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self.last_served = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last request in flight was answered (0 while one is in flight)."""
        return 0.0 if self.active else time.monotonic() - self.last_served

    async def embed(self, texts: list[str]) -> np.ndarray:
        if self._closed:
            raise RuntimeError("the query encoder is closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((texts, future))
        if not self._handing_over:
            self._handing_over = True
            loop.call_soon(self._hand_over, loop)  # requests arriving in this loop iteration go together
        return await future

    def prepare(self) -> None:
        """Open the encoder's one-core session, in the background: the first answer does not wait for it."""
        threading.Thread(target=self._open_single_thread, name="encoder-prepare", daemon=True).start()

    def _open_single_thread(self) -> None:
        try:
            opened = self.embedder.open_single_thread()
        except Exception:  # noqa: BLE001 - the encoder still works on all cores
            logger.exception("could not open a one-core encoder session; encoding on all cores")
            opened = False
        if opened:
            with self._lock:
                self._one_core = True
                self._parallel = max(1, self.embedder.threads)
                self._wake_one()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for wakeup in self._idle:
                wakeup.notify()
            self._idle.clear()

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._handing_over = False
        requests, self._pending = self._pending, []
        if self._closed:
            for _, future in requests:
                if not future.done():
                    future.set_exception(RuntimeError("the query encoder is closed"))
            return
        with self._lock:
            self._waiting.extend((texts, future, loop) for texts, future in requests)
            self._wake_one()

    def _take(self, wakeup: threading.Condition) -> tuple[list, bool] | None:
        """The next batch and whether it may use every core, waiting for one; None once closed."""
        with self._lock:
            while not self._closed and (not self._waiting or self._encoding >= self._parallel):
                self._idle.append(wakeup)
                wakeup.wait()
            if self._closed:
                return None
            # At most half the requests in flight: while one half is encoded the event loop composes the
            # other half's answers. Taking them all would make the two take turns, each idle half the time.
            cap = (self.active + 1) // 2 or self.max_batch
            batch, size = [], 0
            while self._waiting and len(batch) < cap:
                if batch and size + len(self._waiting[0][0]) > self.max_batch:
                    break
                request = self._waiting.popleft()
                if not request[1].cancelled():
                    batch.append(request)
                    size += len(request[0])
            self._encoding += 1
            # Every core only for a batch that is all there is to do: nothing else encoding or composing.
            alone = self._encoding == 1 and self.active <= len(batch)
            self._wake_one()  # another worker may take the rest
            return batch, alone

    def _wake_one(self) -> None:
        """If there is work a worker may start: wake the idle worker that went idle last (its caches are
        warm), or start one while there are fewer than may encode at once. Called holding the lock."""
        if not self._waiting or self._encoding >= self._parallel:
            return
        if self._idle:
            self._idle.pop().notify()
        elif self._started < self._parallel:
            self._started += 1
            threading.Thread(target=self._work, name="query-encoder", daemon=True).start()

    def _work(self) -> None:
        wakeup = threading.Condition(self._lock)
        while (taken := self._take(wakeup)) is not None:
            batch, alone = taken
            try:
                if batch:
                    self._encode(batch, alone)
            finally:
                with self._lock:
                    self._encoding -= 1
                    self._wake_one()
        with self._lock:  # closing: nobody is left to answer them
            waiting, self._waiting = list(self._waiting), collections.deque()
        for _, future, loop in waiting:
            self._deliver_soon(loop, [(future, None, RuntimeError("the query encoder is closed"))])

    def _encode(self, batch: list[tuple[list[str], asyncio.Future, asyncio.AbstractEventLoop]], alone: bool) -> None:
        if self._one_core and not alone:
            # Other requests are encoded or composed meanwhile: one core for this batch.
            embed = functools.partial(self.embedder.embed, single_thread=True)
        else:
            embed = self.embedder.embed
        results = encode_each(embed, [group for group, _, _ in batch])
        with self._lock:
            self.batches += 1
            self.texts += sum(len(group) for group, _, _ in batch)
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for (_, future, loop), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, *result))
        for loop, delivered in by_loop.items():
            self._deliver_soon(loop, delivered)

    @staticmethod
    def _deliver_soon(loop: asyncio.AbstractEventLoop, results: list) -> None:
        """Settle each (future, vectors, error) on its own loop."""

        def deliver() -> None:
            for future, vectors, error in results:
                if not future.done():
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(vectors)

        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(deliver)


def encode_each(embed, groups: list[list[str]]) -> list[tuple[np.ndarray | None, BaseException | None]]:
    """(vectors, None) or (None, error) for each request's texts, encoded in one call.

    When the shared call fails, each request is encoded on its own, so one bad input fails only the request
    that sent it, never the others batched with it.
    """
    texts = [text for group in groups for text in group]
    try:
        vectors = embed(texts)
    except Exception as exc:  # noqa: BLE001 - told apart below
        if len(groups) == 1:
            return [(None, exc)]
        logger.warning("a batch of %d query encodes failed (%s); encoding each request alone", len(groups), exc)
        return [result for group in groups for result in encode_each(embed, [group])]
    out, offset = [], 0
    for group in groups:
        out.append((vectors[offset : offset + len(group)], None))
        offset += len(group)
    return out
