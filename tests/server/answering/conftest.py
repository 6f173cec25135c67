"""A small corpus of three invented schools' pages, indexed with the fake embedder (no model, fast)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.build import build
from indexer.settings import IndexSettings
from indexer.store import load_current
from server.answering.engine import IndexState
from server.answering.weights import Weights

PAGES = Path(__file__).resolve().parent / "pages"


@pytest.fixture(scope="session")
def small_index(tmp_path_factory):
    from tests.conftest import FakeEmbedder

    root = tmp_path_factory.mktemp("small")
    shutil.copytree(PAGES, root / "corpus")
    settings = IndexSettings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None)
    summary = build(settings, embedder=FakeEmbedder())
    assert summary.published and summary.added == 3
    return load_current(root / "index")


@pytest.fixture(scope="session")
def small_state(small_index) -> IndexState:
    return IndexState.build(small_index, Weights.load(), (small_index.name, 0.0))


@pytest.fixture(scope="session")
def linker(small_state):
    return small_state.linker
