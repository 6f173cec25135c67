"""Index versions on disk: one folder per version, published atomically through a pointer file.

Layout of ``index_dir``::

    CURRENT                 name of the version in service (replaced with os.replace)
    versions/<name>/        manifest.json, chunks.jsonl, vectors.faiss, chunk_vectors.npy,
                            unit_vectors.npy, unit_rows.npy, unit_context_vectors.npy, bm25/
    embeddings.sqlite       embedding cache shared by all versions
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunking import Chunk
from .errors import IndexCorruptError, IndexerError, IndexNotFoundError
from .lexical import LexicalIndex
from .vectors import load_index

logger = logging.getLogger(__name__)

FORMAT = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
REBUILD_HINT = "rebuild it with `python -m indexer --full`"


class IndexPaths:
    def __init__(self, index_dir: Path):
        self.root = Path(index_dir)
        self.versions = self.root / "versions"
        self.pointer = self.root / POINTER
        self.cache = self.root / "embeddings.sqlite"
        self.lock = self.root / ".build.lock"

    def current_name(self) -> str | None:
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.versions / name if name else None

    def pointer_stamp(self) -> tuple[str | None, float]:
        """Cheap check for a newly published version: the pointer's content and mtime."""
        try:
            return self.current_name(), self.pointer.stat().st_mtime
        except FileNotFoundError:
            return None, 0.0

    def new_staging(self) -> Path:
        self.versions.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=self.versions))

    def publish(self, staging: Path, name: str) -> Path:
        """Move a complete staging folder into place, then switch the pointer atomically."""
        final = self.versions / name
        _fsync_tree(staging)
        os.replace(staging, final)
        _fsync_dir(self.versions)
        tmp = self.root / f".{POINTER}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)
        return final

    def prune(self, keep: int) -> list[str]:
        """Remove old versions (keeping the newest ``keep`` and the current one) and stale staging folders."""
        if not self.versions.is_dir():
            return []
        current = self.current_name()
        removed = []
        for stale in self.versions.glob(".staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        versions = sorted(
            (p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True
        )
        for old in versions[keep:]:
            if old.name != current:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old.name)
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(root)


def new_version_name() -> str:
    return datetime.now(UTC).strftime("v%Y%m%dT%H%M%S%fZ")


def read_manifest(version_dir: Path) -> dict:
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"index version {version_dir.name} has no manifest; {REBUILD_HINT}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"index version {version_dir.name} has a damaged manifest; {REBUILD_HINT}") from exc
    if manifest.get("format") != FORMAT:
        raise IndexCorruptError(
            f"index version {version_dir.name} has format {manifest.get('format')}, expected {FORMAT}; {REBUILD_HINT}"
        )
    return manifest


def read_chunks(version_dir: Path) -> list[Chunk]:
    with (version_dir / "chunks.jsonl").open(encoding="utf-8") as fh:
        return [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]


@dataclass
class LoadedIndex:
    """One index version in memory: everything retrieval and answering read."""

    name: str
    path: Path
    manifest: dict
    chunks: list[Chunk]
    faiss_index: object
    chunk_vectors: np.ndarray
    lexical: LexicalIndex
    unit_vectors: np.ndarray | None = None
    unit_rows: np.ndarray | None = None  # (n_units, 2): chunk row, unit number in that chunk
    context_vectors: np.ndarray | None = None  # each unit read with the heading and lead-in it stands under
    doc_rows: dict[str, np.ndarray] = field(default_factory=dict)
    unit_offsets: np.ndarray | None = None  # first unit row of each chunk

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    @property
    def documents(self) -> list[dict]:
        return self.manifest["documents"]


def load_version(version_dir: Path, *, expected_model: str | None = None, ef_search: int = 96) -> LoadedIndex:
    """Load and check one version; raise IndexCorruptError saying what is wrong and how to fix it."""
    if not version_dir.is_dir():
        raise IndexNotFoundError(f"index version folder {version_dir} is missing; {REBUILD_HINT}")
    manifest = read_manifest(version_dir)
    if expected_model and manifest["model"]["id"] != expected_model:
        raise IndexCorruptError(
            f"the index was built with model {manifest['model']['id']!r} but the server uses {expected_model!r}; "
            f"{REBUILD_HINT} (or set PQA_MODEL to the index's model)"
        )
    for name, size in manifest.get("files", {}).items():
        path = version_dir / name
        if not path.is_file() or path.stat().st_size != size:
            raise IndexCorruptError(
                f"index file {name} of version {version_dir.name} is missing or truncated; {REBUILD_HINT}"
            )
    try:
        chunks = read_chunks(version_dir)
        faiss_index = load_index(version_dir / "vectors.faiss", ef_search=ef_search)
        chunk_vectors = np.load(version_dir / "chunk_vectors.npy", mmap_mode="r")
        lexical = LexicalIndex.load(version_dir / "bm25")
        unit_vectors = unit_rows = None
        if (version_dir / "unit_vectors.npy").is_file():
            # Memory-mapped, like the chunk vectors: worker processes share the pages (the page cache).
            unit_vectors = np.load(version_dir / "unit_vectors.npy", mmap_mode="r")
            unit_rows = np.load(version_dir / "unit_rows.npy")
        context_vectors = None
        if (version_dir / "unit_context_vectors.npy").is_file():
            context_vectors = np.load(version_dir / "unit_context_vectors.npy", mmap_mode="r")
    except IndexCorruptError:
        raise
    except Exception as exc:  # noqa: BLE001 - any damaged file becomes one clear message
        raise IndexCorruptError(f"index version {version_dir.name} cannot be read ({exc}); {REBUILD_HINT}") from exc
    n = len(chunks)
    if faiss_index.ntotal != n or chunk_vectors.shape[0] != n or manifest["counts"]["chunks"] != n:
        raise IndexCorruptError(
            f"index version {version_dir.name} is inconsistent ({n} chunks, {faiss_index.ntotal} vectors); {REBUILD_HINT}"
        )
    if context_vectors is not None and (unit_rows is None or context_vectors.shape[0] != unit_rows.shape[0]):
        raise IndexCorruptError(
            f"index version {version_dir.name} has context vectors for other units than its own; {REBUILD_HINT}"
        )
    doc_rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        doc_rows.setdefault(chunk.doc_id, []).append(row)
    offsets = None
    if unit_rows is not None:
        offsets = np.searchsorted(unit_rows[:, 0], np.arange(n + 1))
    return LoadedIndex(
        name=version_dir.name,
        path=version_dir,
        manifest=manifest,
        chunks=chunks,
        faiss_index=faiss_index,
        chunk_vectors=chunk_vectors,
        lexical=lexical,
        unit_vectors=unit_vectors,
        unit_rows=unit_rows,
        context_vectors=context_vectors,
        doc_rows={k: np.asarray(v, dtype=np.int64) for k, v in doc_rows.items()},
        unit_offsets=offsets,
    )


def load_current(index_dir: Path, *, expected_model: str | None = None, ef_search: int = 96) -> LoadedIndex:
    paths = IndexPaths(index_dir)
    current = paths.current_path()
    if current is not None:
        return load_version(current, expected_model=expected_model, ef_search=ef_search)
    # No pointer (deleted by hand, or lost with a disk): the newest version that loads whole is served.
    versions = sorted((d for d in paths.versions.glob("v*") if (d / MANIFEST).is_file()), reverse=True)
    for version in versions:
        try:
            index = load_version(version, expected_model=expected_model, ef_search=ef_search)
        except IndexerError as exc:
            logger.warning("index version %s not usable: %s", version.name, exc)
            continue
        logger.warning("%s is missing: serving the newest complete version, %s", paths.pointer, version.name)
        return index
    raise IndexNotFoundError(f"no index in {index_dir}: build one with `python -m indexer`")
