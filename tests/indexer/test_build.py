"""Incremental, atomic index builds (fake embedder: fast and deterministic)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.build import build
from indexer.errors import BuildError
from indexer.store import IndexPaths, load_current


def test_build_then_unchanged_rerun_embeds_nothing(settings, fake_embedder):
    first = build(settings, embedder=fake_embedder)
    assert first.published and first.added == 2 and first.embedded > 0
    again = build(settings, embedder=fake_embedder)
    assert not again.published and again.embedded == 0 and again.unchanged == 2
    assert again.version == first.version


def test_unchanged_rerun_does_not_load_the_model(settings, fake_embedder, monkeypatch):
    from indexer.model import resolve_model

    fake_embedder.model_id = resolve_model(None).model_id  # as if built with the default model
    build(settings, embedder=fake_embedder)
    import indexer.build as build_module

    def boom(*args, **kwargs):
        raise AssertionError("the model must not be constructed when nothing changed")

    monkeypatch.setattr(build_module, "make_embedder", boom)
    summary = build(settings)  # default embedder would be the real model
    assert summary.embedded == 0


def test_editing_one_document_reembeds_only_its_chunks(settings, fake_embedder):
    build(settings, embedder=fake_embedder)
    target = settings.corpus_dir / "ai-masters-careers-in-manufacturing.txt"
    text = target.read_text()
    marker = "Evaluating program length, cost, and ROI is essential"
    assert marker in text
    target.write_text(text.replace(marker, "Robotics apprenticeships are a new option. " + marker))
    fake_embedder.texts_embedded = 0
    summary = build(settings, embedder=fake_embedder)
    assert summary.updated == 1 and summary.unchanged == 1
    index = load_current(settings.index_dir)
    changed = [c for c in index.chunks if c.doc_id == "ai-masters-careers-in-manufacturing"]
    # Only the changed chunk(s) and their sentences are new: far fewer than the document holds.
    assert 0 < summary.embedded < len(changed)
    assert any("Robotics apprenticeships are a new option." in c.text for c in changed)


def test_adding_and_deleting_documents(settings, fake_embedder):
    build(settings, embedder=fake_embedder)
    (settings.corpus_dir / "new.md").write_text("# New program\nThe new program costs $9,999 in total.\n")
    summary = build(settings, embedder=fake_embedder)
    assert summary.added == 1 and summary.unchanged == 2
    (settings.corpus_dir / "new.md").unlink()
    summary = build(settings, embedder=fake_embedder)
    assert summary.removed == 1
    assert "new" not in {d["doc_id"] for d in load_current(settings.index_dir).documents}


def test_bad_files_are_skipped_and_the_rest_indexed(settings, fake_embedder):
    (settings.corpus_dir / "empty.txt").write_text("")
    (settings.corpus_dir / "notes.xyz").write_text("unsupported")
    (settings.corpus_dir / "garbage.md").write_bytes(bytes(range(256)) * 20)
    summary = build(settings, embedder=fake_embedder)
    assert summary.added == 2
    assert any(s.startswith("empty.txt: empty file") for s in summary.skipped)
    assert any(s.startswith("notes.xyz: unsupported file type") for s in summary.skipped)
    assert any(s.startswith("garbage.md: looks like binary") for s in summary.skipped)


def test_failed_build_keeps_previous_version(settings, fake_embedder):
    first = build(settings, embedder=fake_embedder)
    for f in settings.corpus_dir.iterdir():
        f.unlink()
    with pytest.raises(BuildError, match="no documents could be indexed"):
        build(settings, embedder=fake_embedder)
    assert load_current(settings.index_dir).name == first.version


def test_model_or_chunker_change_rebuilds(settings, fake_embedder):
    build(settings, embedder=fake_embedder)
    other = type(fake_embedder)()
    other.model_id = "another-model"
    summary = build(settings, embedder=other)
    assert summary.published and summary.added == 2 and summary.embedded > 0
    changed = settings.model_copy(update={"chunk_target_words": 90})
    summary = build(changed, embedder=other)
    assert summary.published and summary.added == 2


def test_old_versions_are_pruned(settings, fake_embedder):
    settings = settings.model_copy(update={"keep_versions": 2})
    for i in range(4):
        (settings.corpus_dir / "extra.md").write_text(f"# Extra\nVersion {i} of an extra document about tuition.\n")
        build(settings, embedder=fake_embedder)
    versions = [p for p in IndexPaths(settings.index_dir).versions.iterdir() if not p.name.startswith(".")]
    assert len(versions) == 2


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder
from indexer.build import build
from indexer.settings import IndexSettings

class Slow(FakeEmbedder):
    def embed(self, texts, progress=False):
        time.sleep(0.002 * len(texts))
        return super().embed(texts)

build(IndexSettings(corpus_dir={corpus!r}, index_dir={index!r}, _env_file=None, embed_batch_size=4), embedder=Slow(), full=True)
"""


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.2, 1.6, 2.0])
def test_build_killed_midway_leaves_previous_version_loadable(settings, fake_embedder, delay):
    first = build(settings, embedder=fake_embedder)
    (settings.corpus_dir / "big.md").write_text(
        "# Big\n" + " ".join(f"Sentence {i} about programs." for i in range(400))
    )
    script = KILL_SCRIPT.format(
        tests=str(Path(__file__).parents[1]), corpus=str(settings.corpus_dir), index=str(settings.index_dir)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    index = load_current(settings.index_dir)  # whole and loadable: the old version or a complete new one
    assert index.name == first.version or "big" in index.doc_rows
    assert len(index.chunks) == index.faiss_index.ntotal


def test_a_busy_cache_is_left_alone(tmp_path):
    import sqlite3

    import numpy as np

    from indexer.cache import EmbeddingCache

    path = tmp_path / "embeddings.sqlite"
    cache = EmbeddingCache(path)
    cache.put_many("m", {f"k{i}": np.ones(4, dtype=np.float32) for i in range(1000)})
    cache.close()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another process is writing
    busy = EmbeddingCache(path, timeout=0.1)
    busy.put_many("m", {"new": np.ones(4, dtype=np.float32)})  # not kept, not raised
    holder.rollback()
    holder.close()
    assert len(EmbeddingCache(path).get_many("m", [f"k{i}" for i in range(1000)])) == 1000  # nothing lost
    assert len(EmbeddingCache(path).get_many("m", [f"k{i}" for i in range(1000)])) == 1000


def test_a_damaged_cache_is_replaced(tmp_path):
    from indexer.cache import EmbeddingCache

    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    cache = EmbeddingCache(path)
    assert cache.get_many("m", ["x"]) == {}


def test_progress_names_the_embedding_stage_before_it_embeds(settings, fake_embedder):
    seen: list[tuple[str, float, int]] = []
    build(settings, embedder=fake_embedder, on_progress=lambda stage, f: seen.append((stage, f, fake_embedder.calls)))
    stages = [stage for stage, _, _ in seen]
    assert stages.index("embedding chunks") > stages.index("chunking")
    # The embedding stage is reported before its first encode, not after the work is done.
    first = next(calls for stage, _, calls in seen if stage == "embedding chunks")
    assert first == 0 and ("embedding chunks", 1.0) in [(s, f) for s, f, _ in seen]


def test_each_unit_gets_a_vector_read_in_its_context(settings, fake_embedder):
    from indexer.context import context_text

    build(settings, embedder=fake_embedder)
    index = load_current(settings.index_dir)
    assert index.context_vectors is not None and index.context_vectors.shape == index.unit_vectors.shape
    row, n = (int(v) for v in index.unit_rows[-1])
    expected = fake_embedder.embed([context_text(index.chunks[row], n)])[0]
    assert abs(float(index.context_vectors[-1] @ expected) - 1.0) < 1e-5


def test_an_index_without_context_vectors_is_rebuilt(settings, fake_embedder):
    import json

    build(settings, embedder=fake_embedder)
    manifest = IndexPaths(settings.index_dir).current_path() / "manifest.json"
    data = json.loads(manifest.read_text())
    data.pop("context")  # as written before context vectors
    manifest.write_text(json.dumps(data))
    summary = build(settings, embedder=fake_embedder)
    assert summary.published and load_current(settings.index_dir).context_vectors is not None
