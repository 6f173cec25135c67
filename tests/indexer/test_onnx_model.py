"""The ONNX Runtime encoder: the same vectors as PyTorch, exported once, checked on load, PyTorch when it cannot be."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.encoders import make_embedder
from indexer.errors import ModelError
from indexer.model import ModelSpec, SentenceTransformerEmbedder, resolve_model
from indexer.onnx_model import OnnxEmbedder
from indexer.settings import IndexSettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "How much does the Northeastern program cost?",
    "GRE?",
    "Graduates of the welding engineering master's earn a median of $88,500. " * 30,  # past 256 tokens: truncated
    "Tuition is charged per credit; the program is 32 credits over three semesters.",
    "x",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx(cache) -> OnnxEmbedder:
    embedder = OnnxEmbedder(resolve_model(None), cache)
    embedder.load()
    return embedder


def test_vectors_match_pytorch(onnx, real_embedder):
    assert onnx.backend == "onnx" and onnx.dim == 384
    ours, theirs = onnx.embed(TEXTS), real_embedder.embed(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert float((ours * theirs).sum(axis=1).min()) > 0.99999
    # Batches of any make-up give the same vectors: each text alone, and in a mixed batch.
    alone = np.vstack([onnx.embed([t]) for t in TEXTS])
    assert np.abs(alone - ours).max() < 1e-5


def test_the_export_is_cached_and_reused(cache, onnx, caplog):
    files = sorted(p.name for p in (cache / "onnx").iterdir())
    assert files == [f"{onnx.model_hash[:16]}-v1.json", f"{onnx.model_hash[:16]}-v1.onnx"]
    exported = (cache / "onnx" / files[1]).stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="indexer.onnx_model"):
        again = OnnxEmbedder(resolve_model(None), cache)
        again.load()
    assert again.backend == "onnx" and "exporting" not in caplog.text
    assert (cache / "onnx" / files[1]).stat().st_mtime_ns == exported


def test_a_damaged_export_is_made_again(tmp_path, real_embedder):
    first = OnnxEmbedder(resolve_model(None), tmp_path)
    first.load()
    path = next((tmp_path / "onnx").glob("*.onnx"))
    path.write_bytes(path.read_bytes()[: 1 << 20])  # truncated, as by a full disk
    second = OnnxEmbedder(resolve_model(None), tmp_path)
    vectors = second.embed(TEXTS[:2])
    assert second.backend == "onnx" and path.stat().st_size > 1 << 24
    assert float((vectors * real_embedder.embed(TEXTS[:2])).sum(axis=1).min()) > 0.99999


def test_an_export_of_other_weights_is_not_used(tmp_path, onnx, cache):
    (tmp_path / "onnx").mkdir()
    src = next((cache / "onnx").glob("*.onnx"))
    target = tmp_path / "onnx" / src.name
    shutil.copy(src, target)
    meta = json.loads(src.with_suffix(".json").read_text())
    meta["model_sha256"] = "0" * 64  # exported from some other weights
    target.with_suffix(".json").write_text(json.dumps(meta))
    again = OnnxEmbedder(resolve_model(None), tmp_path)
    again.load()
    assert json.loads(target.with_suffix(".json").read_text())["model_sha256"] == onnx.model_hash


def test_a_model_that_is_not_mean_pooled_falls_back_to_pytorch(tmp_path, real_embedder):
    bundled = Path(resolve_model(None).location)
    folder = tmp_path / "cls-model"
    folder.mkdir()
    for item in bundled.iterdir():
        (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").unlink()
    (folder / "1_Pooling").mkdir()
    pooling = json.loads((bundled / "1_Pooling" / "config.json").read_text())
    pooling |= {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    spec = ModelSpec("local:cls-model", str(folder))
    with pytest.raises(ModelError, match="pooling is"):  # no fallback handed in: the reason, not a silent switch
        OnnxEmbedder(spec, tmp_path / "cache").load()
    embedder = OnnxEmbedder(spec, tmp_path / "cache", fallback=lambda: SentenceTransformerEmbedder(spec))
    vectors = embedder.embed(TEXTS[:1])
    assert embedder.backend == "torch" and vectors.shape == (1, 384)
    assert not (tmp_path / "cache" / "onnx").exists()


def test_settings_choose_the_encoder(tmp_path):
    assert make_embedder(IndexSettings(index_dir=tmp_path, _env_file=None)).backend == "onnx"
    assert make_embedder(IndexSettings(index_dir=tmp_path, encoder="torch", _env_file=None)).backend == "torch"


def test_serving_with_onnx_never_imports_torch(onnx, cache):
    code = (
        "import sys; from indexer.onnx_model import OnnxEmbedder; from indexer.model import resolve_model; "
        f"e = OnnxEmbedder(resolve_model(None), {str(cache)!r}); v = e.embed(['GRE?']); "
        "assert e.backend == 'onnx' and v.shape == (1, 384); "
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_one_core_session_gives_the_same_vectors(onnx):
    # Serving encodes on one core while it composes answers on the others: the vectors must not change.
    assert onnx.open_single_thread() == (onnx.threads > 1)
    everywhere = onnx.embed(TEXTS)
    one_core = onnx.embed(TEXTS, single_thread=True)
    assert np.abs(one_core - everywhere).max() < 1e-5
