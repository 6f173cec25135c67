"""The encoder factory: the backend the settings ask for (``PQA_ENCODER``), with its fallback handed in."""

from __future__ import annotations

from .model import Embedder, ModelSpec, SentenceTransformerEmbedder, resolve_model
from .onnx_model import OnnxEmbedder


def make_embedder(settings, spec: ModelSpec | None = None) -> Embedder:
    """ONNX Runtime (default; PyTorch when ONNX cannot run the model) or PyTorch."""
    spec = spec or resolve_model(settings.model)
    if settings.encoder == "onnx":
        return OnnxEmbedder(
            spec,
            settings.index_dir,
            batch_size=settings.embed_batch_size,
            threads=settings.encoder_threads or None,
            fallback=lambda: SentenceTransformerEmbedder(spec, batch_size=settings.embed_batch_size),
        )
    return SentenceTransformerEmbedder(spec, batch_size=settings.embed_batch_size)
