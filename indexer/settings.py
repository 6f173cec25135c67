"""The settings object: environment variables prefixed ``PQA_`` and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class IndexSettings(BaseSettings):
    """What the indexer and the retriever need. The server extends this class with its own fields."""

    model_config = SettingsConfigDict(env_prefix="PQA_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of source documents.")
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder holding index versions.")
    model: str | None = Field(
        None,
        description="Embedding model: a local folder or a hub name. Unset: the bundled all-MiniLM-L6-v2.",
    )
    encoder: str = Field(
        "onnx",
        pattern="^(onnx|torch)$",
        description="onnx: the model exported once to ONNX Runtime (same vectors, faster); torch: sentence-transformers.",
    )
    encoder_threads: int = Field(0, ge=0, le=256, description="ONNX Runtime threads per encode; 0: one per CPU core.")
    chunk_target_words: int = Field(140, ge=20, le=1000)
    chunk_max_words: int = Field(220, ge=30, le=2000)
    chunk_min_words: int = Field(40, ge=0, le=500)
    chunk_overlap_sentences: int = Field(1, ge=0, le=5)
    embed_sentences: bool = Field(True, description="Also embed every sentence (used to pick answer sentences).")
    embed_batch_size: int = Field(64, ge=1, le=1024)
    keep_versions: int = Field(3, ge=1, le=100, description="Index versions kept on disk.")
    index_type: str = Field(
        "auto", pattern="^(auto|flat|hnsw)$", description="FAISS index: auto picks by size, or flat / hnsw."
    )
    hnsw_threshold: int = Field(
        50_000, ge=1, description="auto: chunk count from which HNSW is used (see bench/scale.py)."
    )
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_search: int = Field(96, ge=8, le=4096)
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are skipped.")
    max_pdf_pages: int = Field(2000, ge=1)
