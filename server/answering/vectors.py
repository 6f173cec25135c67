"""The query vectors one turn reads, handed to the answerer explicitly, and the cache of short focus phrases."""

from __future__ import annotations

import collections
import logging
import threading

import numpy as np

logger = logging.getLogger(__name__)


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
    (``answerer.turn_texts`` lists every text a turn reads) is encoded anyway, counted in ``missed`` and logged."""

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
