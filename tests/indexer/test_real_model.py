"""The real bundled model on the real corpus."""

import shutil
from pathlib import Path

import pytest

from indexer.build import build
from indexer.errors import ModelError
from indexer.model import BUNDLED_SHA256, file_sha256, resolve_model, verify_bundled
from indexer.search import Retriever
from indexer.settings import IndexSettings
from indexer.store import load_current

pytestmark = pytest.mark.integration


def test_bundled_model_resolves_and_verifies():
    spec = resolve_model(None)
    assert spec.bundled and spec.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert verify_bundled(spec.location) == BUNDLED_SHA256


def test_tampered_weights_are_refused(tmp_path: Path):
    spec = resolve_model(None)
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ModelError, match="expected 53aa5117"):
        verify_bundled(str(fake))
    assert file_sha256(Path(spec.location) / "model.safetensors") == BUNDLED_SHA256


def test_explicit_local_path_wins(tmp_path: Path):
    spec = resolve_model(str(tmp_path))
    assert spec.location == str(tmp_path.resolve()) and not spec.bundled


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("How much does the Northeastern program cost?", "$61,728"),
        ("Is the GRE required for the Northeastern program?", "GRE is not required"),
        ("What salary do AI master's graduates earn in manufacturing?", "$145,000"),
    ],
)
def test_right_passage_in_top_3(real_index, real_embedder, query, expected):
    index = load_current(real_index / "index")
    hits = Retriever(index).search(query, real_embedder.embed([query])[0], k=3)
    assert any(expected in index.chunks[h.row].text for h in hits)


def test_doc_filter_restricts_results(real_index, real_embedder):
    index = load_current(real_index / "index")
    query = "tuition cost"
    retriever = Retriever(index)
    vector = real_embedder.embed([query])[0]
    for doc in ("ai-masters-careers-in-manufacturing", "northeastern-ms-advanced-intelligent-manufacturing"):
        hits = retriever.search(query, vector, k=5, doc_ids=[doc])
        assert hits and {index.chunks[h.row].doc_id for h in hits} == {doc}
        # The restriction is made once per set of documents and gives the same hits when reused.
        again = retriever.search(query, vector, k=5, doc_ids=[doc])
        assert [(h.row, h.score) for h in again] == [(h.row, h.score) for h in hits]
    assert set(retriever._restrictions) == {
        ("ai-masters-careers-in-manufacturing",),
        ("northeastern-ms-advanced-intelligent-manufacturing",),
    }
    assert retriever.search(query, vector, k=5, doc_ids=["no-such-page"]) == []


def test_real_incremental_rebuild(real_index, tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(real_index / "corpus", corpus)
    index_dir = tmp_path / "index"
    shutil.copytree(real_index / "index", index_dir)  # shares the embedding cache of the first build
    settings = IndexSettings(corpus_dir=corpus, index_dir=index_dir, _env_file=None)
    assert build(settings).embedded == 0
    page = corpus / "northeastern-ms-advanced-intelligent-manufacturing.txt"
    page.write_text(page.read_text().replace("Campus Location Boston", "Campus Location Boston and Oakland"))
    summary = build(settings)
    assert summary.updated == 1 and summary.unchanged == 1
    assert 0 < summary.embedded <= 10
