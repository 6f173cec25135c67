"""Shared fixtures: a deterministic fake embedder for fast tests, the real model and index for truth."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.model import Embedder
from indexer.settings import IndexSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# The seed documents the tests are written against: copied by name, so documents a user adds to corpus/
# (as the README says) never change what the tests see.
SEED_FILES = ("ai-masters-careers-in-manufacturing.txt", "northeastern-ms-advanced-intelligent-manufacturing.txt")


def copy_seed(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in SEED_FILES:
        shutil.copy(CORPUS / name, target / name)
    return target


def engine_over(root: Path, pages: Path, embedder):
    """A started engine over the seed documents plus a folder of pages, indexed under ``root``."""
    from indexer.build import build
    from server.answering.engine import QAEngine
    from server.settings import Settings

    copy_seed(root / "corpus")
    for page in pages.iterdir():
        shutil.copy(page, root / "corpus" / page.name)
    settings = Settings(
        corpus_dir=root / "corpus", index_dir=root / "index", session_db=root / "s.sqlite", _env_file=None
    )
    assert build(settings, embedder=embedder).published
    engine = QAEngine(settings, embedder=embedder)
    engine.start()
    return engine


SHARED = ROOT.parent / "shared"


class FakeEmbedder(Embedder):
    """Hashed bag of words: deterministic, instant, and similar texts get similar vectors."""

    model_id = "fake-hash-64"
    dim = 64

    def __init__(self):
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: list[str], *, progress: bool = False, single_thread: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i, 0] += 0.01
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    return copy_seed(tmp_path / "corpus")


@pytest.fixture
def settings(tmp_path: Path, corpus_copy: Path) -> IndexSettings:
    return IndexSettings(corpus_dir=corpus_copy, index_dir=tmp_path / "index", _env_file=None)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Path:
    """The real corpus indexed once with the real bundled model (integration tests)."""
    from indexer.build import build

    root = tmp_path_factory.mktemp("real")
    corpus = root / "corpus"
    copy_seed(corpus)
    summary = build(IndexSettings(corpus_dir=corpus, index_dir=root / "index", _env_file=None))
    assert summary.published and summary.embedded > 0
    return root


@pytest.fixture(scope="session")
def real_embedder():
    from indexer.model import SentenceTransformerEmbedder, resolve_model

    embedder = SentenceTransformerEmbedder(resolve_model(None))
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def server_settings(real_index):
    """Server settings over the real index, with the session store in a folder of the test's choosing."""
    from server.settings import Settings

    def make(state_dir: Path, *, root: Path = real_index, **extra) -> Settings:
        return Settings(
            corpus_dir=root / "corpus",
            index_dir=root / "index",
            session_db=state_dir / "s.sqlite",
            _env_file=None,
            **extra,
        )

    return make


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server, started once for the session (tests/postgres.py)."""
    from tests.postgres import PostgresServer

    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    server.start()
    yield server
    server.stop()
