"""What each document leaves out: the facts students most often ask about, asked of each document by the
answering model itself (as the suggestions check does), marked answered with the quoted sentence, or missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from indexer.store import LoadedIndex

from .facts import FactCatalogue

# ask(question, doc_id) -> the quoted sentences of the answer from that document, or None when refused
Ask = Callable[[str, str], list[str] | None]


@dataclass
class Cell:
    fact: str
    label: str
    question: str
    answered: bool
    quote: str | None = None


@dataclass
class DocumentCoverage:
    doc_id: str
    title: str
    type: str  # "program" or "career": which facts were asked
    cells: list[Cell] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [c.fact for c in self.cells if not c.answered]

    def to_dict(self) -> dict:
        return {**asdict(self), "missing": self.missing}


@dataclass
class Coverage:
    """The coverage of one index version; ``complete`` once every document has been asked."""

    version: str
    documents: list[DocumentCoverage] = field(default_factory=list)
    complete: bool = False

    def to_dict(self, catalogue: FactCatalogue) -> dict:
        facts = {
            t: [{"fact": f.fact, "label": f.label} for f in catalogue.for_type(t)] for t in catalogue.document_types
        }
        return {
            "version": self.version,
            "status": "complete" if self.complete else "measuring",
            "complete": self.complete,
            "facts": facts,
            "documents": [d.to_dict() for d in self.documents],
        }


def document_vector(index: LoadedIndex, doc_id: str) -> np.ndarray:
    """The mean of a document's chunk vectors, normalised: what the document is about as a whole."""
    mean = index.chunk_vectors[index.doc_rows[doc_id]].mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def measure(
    index: LoadedIndex,
    catalogue: FactCatalogue,
    ask: Ask,
    encode: Callable[[list[str]], np.ndarray],
    go_on: Callable[[], bool] = lambda: True,
    into: Coverage | None = None,
) -> Coverage:
    """Ask every document the facts of its type; stops early (``complete`` False) when ``go_on`` says so.
    ``into`` is filled as it goes, so that readers see the documents done so far."""
    coverage = into or Coverage(index.name)
    for doc in index.documents:
        doc_id = doc["doc_id"]
        if doc_id not in index.doc_rows:
            continue
        kind = catalogue.document_type(document_vector(index, doc_id), encode)
        done = DocumentCoverage(doc_id, doc["title"], kind)
        for fact in catalogue.for_type(kind):
            if not go_on():
                return coverage
            quotes = ask(fact.question, doc_id)
            quote = " … ".join(quotes) if quotes else None
            done.cells.append(Cell(fact.fact, fact.label, fact.question, quotes is not None, quote))
        coverage.documents.append(done)
    coverage.complete = True
    return coverage
