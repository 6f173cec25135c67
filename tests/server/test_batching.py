import asyncio
import threading
import time

import numpy as np
import pytest

from indexer.model import Embedder
from server.answering.batching import AsyncBatcher, MicroBatcher


class CountingEmbedder(Embedder):
    model_id = "count"

    def __init__(self):
        self.calls = []

    def embed(self, texts, progress=False):
        self.calls.append(len(texts))
        time.sleep(0.02)  # a busy model: requests pile up meanwhile
        return np.asarray([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_concurrent_queries_share_encodes_and_get_their_own_vectors():
    inner = CountingEmbedder()
    batcher = MicroBatcher(inner, max_batch=32, window_ms=2)
    batcher.start()
    results = {}

    def ask(i):
        results[i] = batcher.embed(["x" * i])[0]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(1, 41)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()
    assert all(results[i][0] == float(i) for i in range(1, 41))  # each caller got its own vector
    assert sum(inner.calls) == 40 and len(inner.calls) < 20 and max(inner.calls) > 1


def test_lone_query_is_encoded_at_once_on_the_callers_thread():
    # No hand-over to the worker and no window waited for followers when idle (its latency: bench/serve_bench.py).
    threads = []

    class Where(CountingEmbedder):
        def embed(self, texts, progress=False, single_thread=False):
            threads.append(threading.current_thread())
            return super().embed(texts)

    batcher = MicroBatcher(Where(), window_ms=50)
    batcher.start()
    batcher.embed(["only one"])
    batcher.close()
    assert threads == [threading.current_thread()] and batcher.batches == 0


def test_coroutines_share_encodes_one_at_a_time_and_get_their_own_vectors():
    inner = CountingEmbedder()
    batcher = AsyncBatcher(inner, max_batch=8)

    async def main():
        return await asyncio.gather(*(batcher.embed(["x" * i, "y"]) for i in range(1, 21)))

    results = asyncio.run(main())
    batcher.close()
    assert all(r[0][0] == float(i) and r[1][0] == 1.0 for i, r in zip(range(1, 21), results, strict=True))
    assert sum(inner.calls) == 40 and max(inner.calls) <= 8 and len(inner.calls) <= 6  # batched, capped


def test_an_encode_error_reaches_every_waiting_coroutine():
    class Broken(Embedder):
        def embed(self, texts, progress=False):
            raise RuntimeError("model broke")

    batcher = AsyncBatcher(Broken())

    async def main():
        return await asyncio.gather(*(batcher.embed(["q"]) for _ in range(3)), return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, RuntimeError) and "model broke" in str(r) for r in results)
    with pytest.raises(RuntimeError, match="model broke"):  # the next request is tried again, not stuck
        asyncio.run(asyncio.wait_for(batcher.embed(["q"]), 5))
    batcher.close()


def crowd_of(batcher, n):
    async def request(i):
        with batcher.serving():
            vectors = await batcher.embed(["x" * i])
            await asyncio.sleep(0.005)  # composing the answer
            return vectors

    async def crowd():
        return await asyncio.gather(*(request(i) for i in range(1, n + 1)))

    return asyncio.run(crowd())


def test_a_batch_takes_at_most_half_the_requests_in_flight():
    # While one half is encoded the event loop composes the other half's answers (a pipeline), instead of
    # the two taking turns with one batch of everyone.
    inner = CountingEmbedder()
    batcher = AsyncBatcher(inner)
    results = crowd_of(batcher, 8)
    batcher.close()
    assert [float(r[0][0]) for r in results] == [float(i) for i in range(1, 9)]
    assert sum(inner.calls) == 8 and max(inner.calls) <= 4 and len(inner.calls) >= 2
    assert batcher.active == 0


class OneCoreEmbedder(CountingEmbedder):
    """Records whether each encode was asked to run on one core."""

    def __init__(self):
        super().__init__()
        self.single = []

    def open_single_thread(self):
        return True

    def embed(self, texts, progress=False, single_thread=False):
        self.single.append(single_thread)
        return super().embed(texts)


def test_encodes_run_on_one_core_only_while_other_requests_are_in_flight():
    inner = OneCoreEmbedder()
    batcher = AsyncBatcher(inner)
    batcher._open_single_thread()  # what prepare() runs in the background

    async def request(i):
        with batcher.serving():
            return await batcher.embed([f"q{i}"])

    async def crowd():
        return await asyncio.gather(*(request(i) for i in range(6)))

    asyncio.run(request(0))  # alone: every core
    asyncio.run(crowd())  # crowded: one core
    batcher.close()
    assert inner.single[0] is False
    assert inner.single[1] is True  # the first crowded batch: three requests left to compose meanwhile


class ConcurrencyEmbedder(OneCoreEmbedder):
    """A two-core ONNX-like encoder recording how many encodes overlap, and on how many cores each ran."""

    threads = 2

    def __init__(self):
        super().__init__()
        self.now = 0
        self.most = 0
        self.overlapping_all_cores = 0
        self._lock = threading.Lock()

    def embed(self, texts, progress=False, single_thread=False):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            if self.now > 1 and not single_thread:
                self.overlapping_all_cores += 1
        try:
            return super().embed(texts, single_thread=single_thread)
        finally:
            with self._lock:
                self.now -= 1


def test_one_core_workers_encode_batches_side_by_side_once_the_one_core_session_is_open():
    inner = ConcurrencyEmbedder()
    batcher = AsyncBatcher(inner)
    batcher._open_single_thread()  # what prepare() runs in the background
    results = crowd_of(batcher, 24)
    batcher.close()
    assert [float(r[0][0]) for r in results] == [float(i) for i in range(1, 25)]  # each its own vector
    assert inner.most == 2  # one worker per core, no more
    assert inner.overlapping_all_cores == 0  # side by side only on one core each
    assert sum(inner.calls) == 24 and len(inner.calls) < 24  # still batched


def test_without_a_one_core_session_one_batch_is_encoded_at_a_time():
    inner = ConcurrencyEmbedder()
    inner.open_single_thread = lambda: False  # a PyTorch fallback: no one-core session
    batcher = AsyncBatcher(inner)
    batcher._open_single_thread()
    results = crowd_of(batcher, 24)
    batcher.close()
    assert [float(r[0][0]) for r in results] == [float(i) for i in range(1, 25)]
    assert inner.most == 1 and not any(inner.single)


def test_closing_fails_the_requests_still_waiting_instead_of_leaving_them_hanging():
    inner = CountingEmbedder()
    batcher = AsyncBatcher(inner)

    async def main():
        first = asyncio.ensure_future(batcher.embed(["a"]))
        await asyncio.sleep(0.005)  # the worker is encoding "a"
        second = asyncio.ensure_future(batcher.embed(["b"]))
        await asyncio.sleep(0)
        batcher.close()
        return await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 5)

    first, second = asyncio.run(main())
    assert first[0][0] == 1.0  # the batch being encoded is still delivered
    assert isinstance(second, RuntimeError) and "closed" in str(second)


class PickyEmbedder(Embedder):
    """Fails a whole call when any text in it is "poison", as a tokenizer fails on input it cannot read."""

    model_id = "picky"

    def __init__(self):
        self.calls = []

    def embed(self, texts, progress=False, single_thread=False):
        self.calls.append(list(texts))
        if "poison" in texts:
            raise ValueError("cannot tokenize 'poison'")
        return np.asarray([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_a_bad_input_in_a_shared_async_batch_fails_only_its_own_request():
    inner = PickyEmbedder()
    batcher = AsyncBatcher(inner, max_batch=32)

    async def main():
        return await asyncio.gather(
            *(batcher.embed([text]) for text in ("good one", "poison", "another good")), return_exceptions=True
        )

    good, bad, other = asyncio.run(main())
    batcher.close()
    assert len(inner.calls[0]) == 3  # the three were encoded together first
    assert isinstance(bad, ValueError) and "poison" in str(bad)
    assert good[0][0] == len("good one") and other[0][0] == len("another good")


def test_a_bad_input_in_a_shared_thread_batch_fails_only_its_own_caller():
    from server.answering.batching import encode_each

    inner = PickyEmbedder()
    results = encode_each(inner.embed, [["a", "bb"], ["poison"], ["ccc"]])
    assert [r[1] is None for r in results] == [True, False, True]
    assert results[0][0][:, 0].tolist() == [1.0, 2.0] and results[2][0][0, 0] == 3.0
    assert isinstance(results[1][1], ValueError)
