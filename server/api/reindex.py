"""Background reindex jobs (one at a time) and corpus edits for the admin endpoints."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.build import build, skip_reason
from indexer.errors import DocumentError, IndexerError
from indexer.loaders import SUPPORTED_SUFFIXES, load_document

from ..errors import InvalidRequest, QAError

logger = logging.getLogger(__name__)


class JobRunning(QAError):
    """A reindex is already running; ``job`` is its status."""

    def __init__(self, job: dict):
        super().__init__(f"a reindex is already running (job {job['id']})")
        self.job = job


class NotFound(QAError):
    """No such job or document."""


@dataclass
class Job:
    id: str
    state: str = "queued"  # queued | running | done | failed
    stage: str = ""
    progress: float = 0.0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    summary: dict | None = None
    error: str | None = None


class ReindexJobs:
    def __init__(self, settings, on_published=None, on_start=None, keep: int = 50):
        self.settings = settings
        self.on_published = on_published or (lambda: None)
        self.on_start = on_start or (lambda: None)
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._running: Job | None = None

    def start(self) -> dict:
        with self._lock:
            if self._running is not None:
                raise JobRunning(asdict(self._running))
            job = Job(id=uuid.uuid4().hex[:12])
            self._jobs[job.id] = job
            self._running = job
            for old in list(self._jobs)[: -self.keep]:
                self._jobs.pop(old, None)
        self.on_start()
        threading.Thread(target=self._run, args=(job,), name=f"reindex-{job.id}", daemon=True).start()
        return asdict(job)

    def running(self) -> bool:
        return self._running is not None

    def get(self, job_id: str) -> dict:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no reindex job {job_id!r}")
        return asdict(job)

    def _run(self, job: Job) -> None:
        job.state = "running"

        def progress(stage: str, fraction: float) -> None:
            job.stage, job.progress = stage, round(fraction, 3)

        try:
            summary = build(self.settings, on_progress=progress)
            job.summary = summary.to_dict()
            job.state, job.progress = "done", 1.0
            if summary.published:
                self.on_published()
        except IndexerError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a failed job is reported, never raised into the server
            logger.exception("reindex job %s failed", job.id)
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            with self._lock:
                self._running = None


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 120


def safe_filename(name: str) -> str:
    """A file name that cannot leave the corpus folder: no folders, no dots in front, plain characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = SAFE_NAME.sub("-", base).lstrip(".-")
    if not base or "." not in base:
        raise InvalidRequest(f"file name {name!r} is not usable; give the file a name with an extension")
    stem, suffix = base[: -len(Path(base).suffix)], Path(base).suffix
    if len(base) > MAX_NAME:  # shortened before the checks, keeping the extension: what is checked is what is stored
        base = stem[: MAX_NAME - len(suffix)].rstrip(".-") + suffix
    reason = skip_reason(Path(base))
    if reason is not None:
        accepted = f"; accepted: {', '.join(sorted(SUPPORTED_SUFFIXES))}" if reason.startswith("unsupported") else ""
        raise InvalidRequest(f"{base}: {reason}, so it would never be indexed{accepted}")
    return base


def check_upload(name: str, data: bytes, max_bytes: int, settings) -> str:
    """Read an upload with the indexer's own loader, outside the corpus, before accepting it."""
    filename = safe_filename(name)
    if len(data) > max_bytes:
        raise InvalidRequest(f"{filename}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB upload limit")
    if not data.strip():
        raise InvalidRequest(f"{filename}: the file is empty")
    with tempfile.TemporaryDirectory(prefix="pqa-upload-") as tmp:
        path = Path(tmp) / filename
        path.write_bytes(data)
        try:
            load_document(path, Path(tmp), max_file_mb=settings.max_file_mb, max_pdf_pages=settings.max_pdf_pages)
        except DocumentError as exc:
            raise InvalidRequest(str(exc)) from exc
    return filename


def save_upload(corpus_dir: Path, name: str, data: bytes, max_bytes: int) -> str:
    """Write one checked upload into the corpus atomically; return the stored name."""
    filename = safe_filename(name)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = (corpus_dir / filename).resolve()
    if target.parent != corpus_dir.resolve():
        raise InvalidRequest(f"{name!r}: not a plain file name")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=corpus_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return filename


def delete_document(corpus_dir: Path, relative_path: str) -> None:
    target = (corpus_dir / relative_path).resolve()
    if corpus_dir.resolve() not in target.parents:
        raise InvalidRequest(f"{relative_path!r} is outside the corpus")
    if not target.is_file():
        raise NotFound(f"{relative_path} is no longer in the corpus")
    target.unlink()
    target.with_name(target.name + ".meta.yaml").unlink(missing_ok=True)
