"""Build or update the index: scan the corpus, chunk what changed, embed what is new, publish."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .cache import EmbeddingCache, text_key
from .chunking import Chunk, ChunkerConfig, chunk_document
from .context import CONTEXT_VERSION, context_text
from .encoders import make_embedder
from .errors import BuildError, DocumentError, IndexCorruptError
from .lexical import TOKENIZER_VERSION, LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, content_hash, doc_id_for, is_sidecar, load_document
from .model import Embedder, resolve_model
from .settings import IndexSettings
from .store import FORMAT, MANIFEST, IndexPaths, new_version_name, read_chunks, read_manifest
from .suggestions import suggest_questions
from .vectors import build_index, choose_index_type, save_index

logger = logging.getLogger(__name__)


@dataclass
class BuildSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0
    model_load_seconds: float = 0.0
    embed_seconds: float = 0.0
    version: str | None = None
    published: bool = False

    def line(self) -> str:
        state = f"published {self.version}" if self.published else f"no change, {self.version or 'no index'} kept"
        return (
            f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped; chunks: {self.chunks}; "
            f"embedded: {self.embedded}; {self.seconds:.2f} s ({state})"
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Source:
    path: Path
    relative: str
    doc_id: str
    content_hash: str


README_NAMES = ("readme.md", "readme.txt")


def skip_reason(relative: Path) -> str | None:
    """Why a file at this corpus path is not indexed, or None when it is (one rule for builds and uploads)."""
    if any(part.startswith(".") for part in relative.parts):
        return "hidden files are not indexed"
    if is_sidecar(relative):
        return "a .meta.yaml file is a document's metadata, not a document"
    if relative.name.lower() in README_NAMES:
        return "README files describe the folder and are not indexed"
    if relative.suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"unsupported file type {relative.suffix or '(none)'}"
    return None


def scan_corpus(corpus_dir: Path, summary: BuildSummary) -> list[_Source]:
    """Supported files of the corpus with their content hashes; other files are skipped with a warning."""
    if not corpus_dir.is_dir():
        raise BuildError(f"corpus folder {corpus_dir} does not exist; create it and add documents")
    sources = []
    owners: dict[str, str] = {}  # doc_id -> the file that has it
    for path in sorted(corpus_dir.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(corpus_dir)
        reason = skip_reason(relative)
        if reason is not None:
            if reason.startswith("unsupported"):  # the others are skipped on purpose, silently
                message = f"{relative.as_posix()}: {reason}; skipped"
                logger.warning(message)
                summary.skipped.append(message)
            continue
        try:
            data = path.read_bytes()
            sidecar = path.with_name(path.name + ".meta.yaml")
            meta = {"sidecar": sidecar.read_text(encoding="utf-8", errors="replace")} if sidecar.is_file() else {}
        except OSError as exc:
            message = f"{relative.as_posix()}: cannot be read ({exc.strerror or exc}); skipped"
            logger.warning(message)
            summary.skipped.append(message)
            continue
        doc_id = doc_id_for(relative)
        if doc_id in owners:
            message = (
                f"{relative.as_posix()}: same document id {doc_id!r} as {owners[doc_id]} "
                "(ids ignore case and extension); rename one of them; skipped"
            )
            logger.warning(message)
            summary.skipped.append(message)
            continue
        owners[doc_id] = relative.as_posix()
        sources.append(_Source(path, relative.as_posix(), doc_id, content_hash(data, meta)))
    return sources


def _previous(paths: IndexPaths) -> tuple[dict | None, Path | None]:
    current = paths.current_path()
    if current is None:
        return None, None
    try:
        return read_manifest(current), current
    except IndexCorruptError as exc:
        logger.warning("previous index version unusable, rebuilding everything: %s", exc)
        return None, None


def corpus_differs(settings: IndexSettings, model_id: str) -> bool:
    """Whether the corpus holds other documents (or other contents) than the index version in service.

    Cheap: hashes the files and reads the manifest, loads no model. An index of another model does not count
    as different here (the server refuses it with its own message); a missing index or corpus does.
    """
    previous, _ = _previous(IndexPaths(settings.index_dir))
    if previous is None or previous["model"]["id"] != model_id or not Path(settings.corpus_dir).is_dir():
        return previous is None and Path(settings.corpus_dir).is_dir()
    return not _same_corpus(previous, scan_corpus(Path(settings.corpus_dir), BuildSummary()))


def _same_corpus(previous: dict, sources: list[_Source]) -> bool:
    """Whether the files are those the previous build saw, indexed or skipped, with the same contents."""
    seen = previous.get("sources") or {d["doc_id"]: d["content_hash"] for d in previous["documents"]}
    return {src.doc_id: src.content_hash for src in sources} == seen


def build(
    settings: IndexSettings,
    *,
    full: bool = False,
    embedder: Embedder | None = None,
    progress: bool = False,
    on_progress: Callable[[str, float], None] | None = None,
) -> BuildSummary:
    """Build a new index version from the corpus, or keep the current one when nothing changed.

    Raises BuildError when no version can be published; the previous version stays in service.
    """
    started = time.perf_counter()
    summary = BuildSummary()
    paths = IndexPaths(settings.index_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    with paths.lock.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildError(f"another build of {paths.root} is running; try again when it ends") from exc
        _build_locked(
            settings, paths, summary, full=full, embedder=embedder, progress=progress, on_progress=on_progress
        )
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Plan:
    """What a build starts from: the corpus scanned, and what of the previous version it can reuse."""

    config: ChunkerConfig
    model_id: str
    sources: list[_Source]
    previous: dict | None  # the manifest of the version in service, if readable
    old_docs: dict[str, dict]  # its documents, when its chunks and vectors can be reused
    unchanged_ids: set[str]
    old_chunks: dict[str, list[Chunk]]
    now: str


@dataclass
class _Vectors:
    chunks: np.ndarray
    units: np.ndarray | None
    unit_rows: np.ndarray | None
    model_hash: str | None
    contexts: np.ndarray | None = None  # each unit read with what it stands under (``context.context_text``)


def _build_locked(settings, paths, summary, *, full, embedder, progress, on_progress) -> None:
    """The stages of a build: scan, chunk, embed, write, publish (each stage reports its progress)."""
    notify = on_progress or (lambda stage, fraction: None)
    plan = _scan(settings, paths, summary, full, embedder, notify)
    if plan is None:
        return  # nothing changed: the model is not even loaded
    documents, chunks = _chunk(settings, plan, summary, notify)
    vectors = _embed(settings, paths, plan, chunks, summary, embedder, progress, notify)
    notify("writing", 0.95)
    staging, name = _write(settings, paths, plan, documents, chunks, vectors)
    _publish(settings, paths, staging, name, summary)
    notify("done", 1.0)


def _scan(settings, paths, summary, full: bool, embedder, notify) -> _Plan | None:
    """Scan the corpus and compare it with the version in service; None when nothing changed."""
    config = ChunkerConfig(
        target_words=settings.chunk_target_words,
        max_words=settings.chunk_max_words,
        min_words=settings.chunk_min_words,
        overlap_sentences=settings.chunk_overlap_sentences,
    )
    model_id = embedder.model_id if embedder is not None else resolve_model(settings.model).model_id
    notify("scanning", 0.0)
    sources = scan_corpus(settings.corpus_dir, summary)
    previous, previous_dir = (None, None) if full else _previous(paths)
    compatible = (
        previous is not None
        and previous["model"]["id"] == model_id
        and previous["chunker"]["fingerprint"] == config.fingerprint()
        and previous.get("embed_sentences") == settings.embed_sentences
        and previous.get("context") == (CONTEXT_VERSION if settings.embed_sentences else None)
        and previous.get("tokenizer") == TOKENIZER_VERSION
    )
    old_docs = {d["doc_id"]: d for d in previous["documents"]} if compatible else {}
    summary.version = paths.current_name()
    unchanged_ids = {
        s.doc_id for s in sources if s.doc_id in old_docs and old_docs[s.doc_id]["content_hash"] == s.content_hash
    }
    summary.removed = len(set(old_docs) - {s.doc_id for s in sources})
    if compatible and _same_corpus(previous, sources):
        # A file the last build skipped (unreadable, no text) and left unchanged is no reason to rebuild.
        summary.unchanged = len(unchanged_ids)
        summary.chunks = previous["counts"]["chunks"]
        return None
    old_chunks: dict[str, list[Chunk]] = {}
    if unchanged_ids and previous_dir is not None:
        seen: set[str] = set()
        for chunk in read_chunks(previous_dir):
            if chunk.doc_id in unchanged_ids and chunk.chunk_id not in seen:  # a chunk is carried over once
                seen.add(chunk.chunk_id)
                old_chunks.setdefault(chunk.doc_id, []).append(chunk)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return _Plan(config, model_id, sources, previous, old_docs, unchanged_ids, old_chunks, now)


def _chunk(settings, plan: _Plan, summary, notify) -> tuple[list[dict], list[Chunk]]:
    """Each document's entry and chunks: carried over when unchanged, else loaded and chunked (a document that
    cannot be is skipped, with the reason in the summary)."""
    documents: list[dict] = []
    chunks: list[Chunk] = []
    for i, source in enumerate(plan.sources):
        notify("chunking", i / max(len(plan.sources), 1))
        if source.doc_id in plan.unchanged_ids and source.doc_id in plan.old_chunks:
            entry, doc_chunks = dict(plan.old_docs[source.doc_id]), plan.old_chunks[source.doc_id]
            summary.unchanged += 1
        else:
            done = _chunk_source(settings, plan, source, summary)
            if done is None:
                continue
            entry, doc_chunks = done
        documents.append(entry)
        chunks.extend(doc_chunks)
    if not chunks:
        raise BuildError(
            f"no documents could be indexed from {settings.corpus_dir} "
            f"({len(summary.skipped)} skipped); the previous index version stays in service"
        )
    summary.chunks = len(chunks)
    return documents, chunks


def _chunk_source(settings, plan: _Plan, source: _Source, summary) -> tuple[dict, list[Chunk]] | None:
    """One new or changed document loaded and chunked, or None (skipped, logged and counted)."""
    try:
        doc = load_document(
            source.path, settings.corpus_dir, max_file_mb=settings.max_file_mb, max_pdf_pages=settings.max_pdf_pages
        )
        _, doc_chunks = chunk_document(doc, plan.config)
    except DocumentError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the build
        message = f"{source.relative}: cannot be parsed ({type(exc).__name__}: {exc}); skipped"
    else:
        message = None if doc_chunks else f"{source.relative}: no text to index; skipped"
    if message is not None:
        logger.warning("%s", message)
        summary.skipped.append(message)
        return None
    if source.doc_id in plan.old_docs:
        summary.updated += 1
    else:
        summary.added += 1
    entry = {
        "doc_id": doc.doc_id,
        "path": doc.path,
        "title": doc.title,
        "source": doc.source,
        "aliases": doc.aliases,
        "kind": doc.kind,
        "content_hash": source.content_hash,
        "chunks": len(doc_chunks),
        "indexed_at": plan.now,
    }
    return entry, doc_chunks


def _embed(settings, paths, plan: _Plan, chunks, summary, embedder, progress, notify) -> _Vectors:
    """The vectors of the chunks and of their sentences (from the embedding cache where it has them)."""
    cache = EmbeddingCache(paths.cache)
    try:
        if embedder is None:
            embedder = make_embedder(settings, resolve_model(settings.model))
        chunk_vectors = _embed_cached(
            [c.embed_text() for c in chunks],
            embedder,
            cache,
            summary,
            progress,
            lambda f: notify("embedding chunks", f),
        )
        unit_vectors = unit_rows = contexts = None
        if settings.embed_sentences:
            rows = [(row, n) for row, chunk in enumerate(chunks) for n in range(len(chunk.units))]
            unit_texts = [chunks[row].units[n].text for row, n in rows]
            unit_vectors = _embed_cached(
                unit_texts, embedder, cache, summary, progress, lambda f: notify("embedding sentences", f)
            )
            unit_rows = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
            contexts = _embed_cached(
                [context_text(chunks[row], n) for row, n in rows],
                embedder,
                cache,
                summary,
                progress,
                lambda f: notify("embedding sentences in context", f),
            )
    finally:
        cache.close()
    model_hash = embedder.model_hash or (plan.previous or {}).get("model", {}).get("sha256")
    return _Vectors(chunk_vectors, unit_vectors, unit_rows, model_hash, contexts)


def _write(settings, paths, plan: _Plan, documents, chunks, vectors: _Vectors) -> tuple[Path, str]:
    """Every file of the new version in a staging folder (removed if anything fails); returns it and its name."""
    index_type = choose_index_type(settings.index_type, len(chunks), settings.hnsw_threshold)
    name = new_version_name()
    staging = paths.new_staging()
    try:
        save_index(build_index(vectors.chunks, index_type, hnsw_m=settings.hnsw_m), staging / "vectors.faiss")
        np.save(staging / "chunk_vectors.npy", vectors.chunks)
        if vectors.units is not None:
            np.save(staging / "unit_vectors.npy", vectors.units)
            np.save(staging / "unit_rows.npy", vectors.unit_rows)
            np.save(staging / "unit_context_vectors.npy", vectors.contexts)
        LexicalIndex.build([c.embed_text() for c in chunks]).save(staging / "bm25")
        with (staging / "chunks.jsonl").open("w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        files = {p.relative_to(staging).as_posix(): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
        manifest = _manifest(settings, plan, name, documents, chunks, vectors, index_type, files)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, name


def _manifest(settings, plan: _Plan, name, documents, chunks, vectors: _Vectors, index_type, files) -> dict:
    return {
        "format": FORMAT,
        "version": name,
        "built_at": plan.now,
        "model": {"id": plan.model_id, "sha256": vectors.model_hash, "dim": int(vectors.chunks.shape[1])},
        "chunker": {**asdict(plan.config), "fingerprint": plan.config.fingerprint()},
        "embed_sentences": settings.embed_sentences,
        "context": CONTEXT_VERSION if vectors.contexts is not None else None,
        "tokenizer": TOKENIZER_VERSION,
        "index_type": index_type,
        "counts": {
            "documents": len(documents),
            "chunks": len(chunks),
            "units": 0 if vectors.unit_rows is None else len(vectors.unit_rows),
        },
        "documents": documents,
        # Every file the build saw, indexed or skipped: what "the corpus changed" is measured against.
        "sources": {src.doc_id: src.content_hash for src in plan.sources},
        "suggestions": suggest_questions(chunks, documents),
        "files": files,
    }


def _publish(settings, paths, staging: Path, name: str, summary) -> None:
    """Swap the version pointer to the new version (atomic), then prune the oldest versions."""
    try:
        paths.publish(staging, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary.version = name
    summary.published = True
    removed = paths.prune(settings.keep_versions)
    if removed:
        logger.info("pruned old index versions: %s", ", ".join(removed))


def _embed_cached(texts, embedder, cache, summary, progress, notify) -> np.ndarray:
    notify(0.0)  # the stage starts now (the first batch may take a while): progress names it at once
    keys = [text_key(t) for t in texts]
    found = cache.get_many(embedder.model_id, keys)
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        by_key = dict(zip(keys, texts, strict=True))
        started = time.perf_counter()
        if not embedder.loaded:
            embedder.load()
            summary.model_load_seconds += time.perf_counter() - started
            started = time.perf_counter()
        batch = max(embedder.batch_size, 1) * 2  # small steps: progress moves visibly
        for i in range(0, len(missing), batch):
            part = missing[i : i + batch]
            vectors = embedder.embed([by_key[k] for k in part], progress=progress)
            new = dict(zip(part, vectors, strict=True))
            cache.put_many(embedder.model_id, new)
            found.update(new)
            notify(min((i + len(part)) / len(missing), 1.0))
        summary.embed_seconds += time.perf_counter() - started
        summary.embedded += len(missing)
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([found[k] for k in keys]).astype(np.float32)
