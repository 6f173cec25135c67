"""Background reindex jobs (one at a time) and corpus edits for the admin endpoints."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.build import build, skip_reason
from indexer.errors import DocumentError, IndexerError
from indexer.loaders import SUPPORTED_SUFFIXES, doc_id_for, load_document

from ..errors import Conflict, InvalidRequest, JobRunning, NotFound, Unavailable
from ..jobboard import DEAD, open_job_board

logger = logging.getLogger(__name__)


PROGRESS_SHARED_EVERY = 0.5  # seconds between two saves of a running job's progress to the shared board


def _shared(fn, *args):
    """A call to the shared job board; its failures (a database gone) become one clear 503."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - sqlite3, psycopg and OS errors alike
        raise Unavailable(f"the reindex job store is unavailable ({type(exc).__name__}); try again shortly") from exc


class Cancelled(IndexerError):
    """The job was cancelled by an admin, or ran past its time limit."""


@dataclass
class Change:
    """One corpus file a job writes (``data``) or removes (``data is None``) before its build."""

    path: Path
    data: bytes | None


@dataclass
class Job:
    id: str
    state: str = "queued"  # queued | running | done | failed | cancelled
    stage: str = ""
    progress: float = 0.0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    summary: dict | None = None
    error: str | None = None
    cancel: bool = field(default=False, repr=False)


class ReindexJobs:
    """One reindex at a time, in a background thread; corpus changes ride along as a transaction.

    A job with changes writes them into the corpus, builds, and keeps them only when the build published a
    version holding every written document; otherwise the corpus is put back as it was (and rebuilt to match).
    So an upload or a delete is checked, written, indexed and published, or it leaves nothing behind.

    The job's record and the one-at-a-time lock live on a ``board`` shared by every server process of the same
    store (``server.jobboard``): a job started through one worker or replica is seen, polled and cancelled
    through any other, and a second one is refused with the first's id while it runs.
    """

    def __init__(self, settings, on_published=None, on_start=None, keep: int = 50, embedder=None, board=None):
        self.settings = settings
        self.on_published = on_published or (lambda: None)
        self.on_start = on_start or (lambda: None)
        self.embedder = embedder  # the server's own encoder: no second copy of the model for reindexing
        self.keep = keep
        self.board = board or open_job_board(settings)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._running: Job | None = None

    def start(self, changes: list[Change] | None = None) -> dict:
        with self._lock:
            if self._running is not None:
                raise JobRunning(self._public(self._running))
            job = Job(id=uuid.uuid4().hex[:12], state="running")
            holder = _shared(self.board.acquire, self._public(job))
            if holder is not None:
                raise JobRunning(holder)
            self._jobs[job.id] = job
            self._running = job
            for old in list(self._jobs)[: -self.keep]:
                self._jobs.pop(old, None)
        self.on_start()
        threading.Thread(target=self._run, args=(job, changes or []), name=f"reindex-{job.id}", daemon=True).start()
        return self._public(job)

    def running(self) -> bool:
        return self._running is not None or _shared(self.board.running_elsewhere) is not None

    @staticmethod
    def _public(job: Job) -> dict:
        out = asdict(job)
        out.pop("cancel")
        return out

    def get(self, job_id: str) -> dict:
        job = self._jobs.get(job_id)
        if job is not None:
            out = self._public(job)
            if self._running is job:  # ended, but its record and the lock are not released yet: still running
                out["state"] = "running"
            return out
        record = _shared(self.board.get, job_id)
        if record is None:
            raise NotFound(f"no reindex job {job_id!r}")
        if record["state"] in ("queued", "running") and _shared(self.board.running_elsewhere) is None:
            # Recorded as running, yet nobody holds the lock: its process died (the check just marked it so), or
            # it ended between the two reads. Only a dead one leaves the corpus to be indexed as it stands.
            record = _shared(self.board.get, job_id)
            if record["state"] == "failed" and record.get("error") == DEAD:
                self.catch_up()
        return record

    def cancel(self, job_id: str) -> dict:
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel = True  # seen at the build's next progress step
            return self._public(job)
        record = _shared(self.board.get, job_id)
        if record is None:
            raise NotFound(f"no reindex job {job_id!r}")
        _shared(self.board.request_cancel, job_id)  # seen by the process running it at its next step
        return record

    def recover(self) -> None:
        """At start-up: the jobs of processes that died are marked failed and the corpus indexed as it stands."""
        try:
            dead = _shared(self.board.recover)
        except Unavailable as exc:
            logger.error("could not check for interrupted reindex jobs: %s", exc)
            return
        if dead:
            self.catch_up()

    def catch_up(self) -> None:
        """Reindex the corpus as it stands, unless a job runs already (here or in another process)."""
        try:
            self.start()
        except JobRunning:
            pass
        except Unavailable as exc:
            logger.error("could not start a reindex: %s", exc)

    def wait(self, timeout: float = 60.0) -> None:
        """Block until no job runs (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._running is not None and time.monotonic() < deadline:
            time.sleep(0.02)

    def _build(self, job: Job):
        limit = self.settings.reindex_timeout_seconds
        shared_at = [0.0]

        def progress(stage: str, fraction: float) -> None:
            job.stage, job.progress = stage, round(fraction, 3)
            if time.monotonic() - shared_at[0] > PROGRESS_SHARED_EVERY:
                shared_at[0] = time.monotonic()
                with contextlib.suppress(Unavailable):
                    _shared(self.board.save, self._public(job))
                    job.cancel = job.cancel or _shared(self.board.cancel_requested, job.id)
            if job.cancel:
                raise Cancelled("cancelled by an admin")
            if time.time() - job.started > limit:
                raise Cancelled(f"stopped after the {limit:g} s time limit (PQA_REINDEX_TIMEOUT_SECONDS)")

        return build(self.settings, embedder=self.embedder, on_progress=progress)

    def _run(self, job: Job, changes: list[Change]) -> None:
        backups: list[tuple[Path, bytes | None]] = []
        try:
            # Only the holder of the job lock writes into the corpus: a partial upload found now was left by a
            # process that died mid-write (here or on another replica).
            clean_stale(self.settings)
            for change in changes:
                backups.append((change.path, change.path.read_bytes() if change.path.is_file() else None))
                _apply(change.path, change.data)
            summary = self._build(job)
            job.summary = summary.to_dict()
            missing = _not_indexed(self.settings.corpus_dir, changes, summary)
            if missing:
                raise IndexerError(f"{missing}; the corpus is back as it was")
            job.state, job.progress = "done", 1.0
            if summary.published:
                self.on_published()
        except Exception as exc:  # noqa: BLE001 - a failed job is reported, never raised into the server
            if isinstance(exc, Cancelled):
                job.state, job.error = "cancelled", str(exc)
            elif isinstance(exc, IndexerError):
                job.state, job.error = "failed", str(exc)
            else:
                logger.exception("reindex job %s failed", job.id)
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            if backups:
                self._undo(job, backups)
        finally:
            job.finished = time.time()
            self._finish(job)

    def _finish(self, job: Job) -> None:
        """Record the job's end and free the lock (whatever the shared store says, this process stops)."""
        try:
            _shared(self.board.save, self._public(job))
        except Unavailable:
            logger.error("reindex job %s ended (%s) but its record could not be saved", job.id, job.state)
        finally:
            self.board.unlock()
            with self._lock:
                self._running = None

    def _undo(self, job: Job, backups: list[tuple[Path, bytes | None]]) -> None:
        """Put the corpus back and, if a version with the changes was published meanwhile, rebuild to match."""
        for path, data in reversed(backups):
            _apply(path, data)
        try:
            if build(self.settings, embedder=self.embedder).published:
                self.on_published()
        except IndexerError as exc:
            logger.error("reindex job %s: could not rebuild after undoing its changes: %s", job.id, exc)


def _apply(path: Path, data: bytes | None) -> None:
    """Write (atomically) or remove one corpus file, with its sidecar when removed."""
    if data is None:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".meta.yaml").unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _not_indexed(corpus_dir: Path, changes: list[Change], summary) -> str | None:
    """Which written file the build skipped, if any."""
    for change in changes:
        if change.data is None:
            continue
        name = change.path.relative_to(corpus_dir).as_posix()
        for message in summary.skipped:
            if message.startswith(name + ":"):
                return message
    return None


def clean_stale(settings, older_than: float = 3600.0) -> int:
    """Remove what killed uploads leave behind: partial files in the corpus, old upload-check folders."""
    corpus = Path(settings.corpus_dir)
    partial = list(corpus.rglob(".upload-*")) if corpus.is_dir() else []  # no job runs before start-up ends
    now = time.time()
    checks = [p for p in Path(tempfile.gettempdir()).glob("pqa-upload-*") if _age(p, now) > older_than]
    removed = 0
    for path in partial + checks:
        try:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed += 1
        except OSError:
            continue
    if removed:
        logger.info("removed %d leftovers of interrupted uploads", removed)
    return removed


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


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


def check_upload(name: str, data: bytes, settings) -> str:
    """Read an upload with the indexer's own loader, outside the corpus, before accepting it (its size is checked
    by the endpoint, while it is read)."""
    filename = safe_filename(name)
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


def corpus_target(corpus_dir: Path, relative: str) -> Path:
    """The corpus file a name or a document's path points to; never outside the corpus."""
    target = (corpus_dir / relative).resolve()
    if corpus_dir.resolve() not in target.parents:
        raise InvalidRequest(f"{relative!r} is outside the corpus")
    return target


def plan_upload(settings, files: list[tuple[str, bytes]], replace: bool) -> tuple[list[Change], list[str]]:
    """Check every uploaded file and decide where it goes; nothing is written here (the job writes).

    Refused: what would never be indexed, a name already taken (unless ``replace``), and a name whose document
    id another file already has ("Guide.TXT" beside "guide.md"): one id, one file.
    """
    corpus = Path(settings.corpus_dir)
    folder = corpus / settings.upload_folder if settings.upload_folder else corpus
    owners = {}
    if corpus.is_dir():
        for path in corpus.rglob("*"):
            relative = path.relative_to(corpus)
            if path.is_file() and skip_reason(relative) is None:
                owners[doc_id_for(relative)] = relative.as_posix()
    changes: list[Change] = []
    replaced: list[str] = []
    planned: dict[str, str] = {}
    for name, data in files:
        filename = check_upload(name, data, settings)
        target = corpus_target(corpus, (folder / filename).relative_to(corpus).as_posix())
        relative = target.relative_to(corpus.resolve()).as_posix()
        doc_id = doc_id_for(Path(relative))
        if doc_id in planned:
            raise InvalidRequest(f"{filename} and {planned[doc_id]} would be the same document {doc_id!r}")
        planned[doc_id] = filename
        owner = owners.get(doc_id)
        if owner is not None and owner != relative:
            raise Conflict(f"{filename} would be document {doc_id!r}, which is {owner}; delete or rename that first")
        if owner == relative:
            if not replace:
                raise Conflict(
                    f"{relative} already exists (document {doc_id!r}); upload with ?replace=true to replace it"
                )
            replaced.append(relative)
        changes.append(Change(target, data))
    return changes, replaced
