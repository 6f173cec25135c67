"""The facts students most often ask about (``facts.json``), and sorting by meaning: a stored question to the
fact it asks for, a document to the type of page it is (program or career). No word lists: the encoder's
vectors of the catalogue's wordings are the prototypes, and the nearest one wins."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FACTS_FILE = Path(__file__).resolve().parent / "facts.json"
OTHER = "other"


@dataclass(frozen=True)
class Fact:
    fact: str  # a stable key ("cost")
    label: str  # for people ("Tuition or cost")
    question: str  # what the coverage check asks of a document
    examples: tuple[str, ...]
    applies_to: str | None  # "program", "career", or None (sorting only)

    @property
    def wordings(self) -> tuple[str, ...]:
        return (self.question, *self.examples)


class FactCatalogue:
    """The catalogue read from its data file, with its vectors encoded once (on first use)."""

    def __init__(self, facts: list[Fact], document_types: dict[str, str], fingerprint: str):
        self.facts = facts
        self.document_types = document_types
        self.fingerprint = fingerprint
        self._vectors: tuple[np.ndarray, list[int], np.ndarray] | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path = FACTS_FILE) -> FactCatalogue:
        raw = path.read_bytes()
        data = json.loads(raw)
        facts = [
            Fact(f["fact"], f["label"], f["question"], tuple(f.get("examples", ())), f.get("for"))
            for f in data["facts"]
        ]
        return cls(facts, dict(data["document_types"]), hashlib.sha256(raw).hexdigest()[:12])

    def for_type(self, document_type: str) -> list[Fact]:
        """The facts the coverage check asks of a document of this type."""
        return [f for f in self.facts if f.applies_to == document_type]

    def label(self, fact: str) -> str:
        return next((f.label for f in self.facts if f.fact == fact), "Other")

    def _prototypes(self, encode: Callable[[list[str]], np.ndarray]) -> tuple[np.ndarray, list[int], np.ndarray]:
        """(wording vectors, the fact of each wording, document type vectors), encoded once."""
        with self._lock:
            if self._vectors is None:
                owners = [i for i, f in enumerate(self.facts) for _ in f.wordings]
                texts = [w for f in self.facts for w in f.wordings]
                types = list(self.document_types.values())
                vectors = np.asarray(encode(texts + types), dtype=np.float32)
                self._vectors = vectors[: len(texts)], owners, vectors[len(texts) :]
            return self._vectors

    def sort_questions(self, vectors: np.ndarray, encode: Callable[[list[str]], np.ndarray]) -> list[str]:
        """The fact each question (one normalised vector per row) asks for: the fact of its nearest wording."""
        if len(vectors) == 0:
            return []
        wordings, owners, _ = self._prototypes(encode)
        nearest = np.argmax(np.asarray(vectors, dtype=np.float32) @ wordings.T, axis=1)
        return [self.facts[owners[i]].fact for i in nearest]

    def document_type(self, vector: np.ndarray, encode: Callable[[list[str]], np.ndarray]) -> str:
        """The type of page a document is (its mean chunk vector against each type's description)."""
        _, _, types = self._prototypes(encode)
        names = list(self.document_types)
        return names[int(np.argmax(types @ np.asarray(vector, dtype=np.float32)))]
