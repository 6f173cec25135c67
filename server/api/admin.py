"""Admin routes (reindex, upload, delete), behind a bearer token from settings."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..errors import Conflict, NotFound, TooLarge
from .deps import EngineDep, SettingsDep
from .reindex import Change, ReindexJobs, corpus_target, plan_upload
from .schemas import ErrorResponse

router = APIRouter(tags=["admin"])


class JobStatus(BaseModel):
    id: str
    state: str
    stage: str
    progress: float
    started: float
    finished: float | None = None
    summary: dict | None = None
    error: str | None = None


class UploadResult(BaseModel):
    saved: list[str]
    replaced: list[str] = []
    job: JobStatus


class DeleteResult(BaseModel):
    deleted: str
    job: JobStatus


def admin_refusal(admin_token: str | None, authorization: str | None) -> tuple[int, str] | None:
    """(status, message) when a request may not use the admin endpoints, else None."""
    if not admin_token:
        return 403, "admin endpoints are disabled: set PQA_ADMIN_TOKEN to enable them"
    scheme, _, token = (authorization or "").partition(" ")
    # Constant-time comparison: the time taken says nothing about how much of the token matched.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), admin_token.encode()):
        return 401, "missing or wrong admin token"
    return None


ADMIN_BEARER = HTTPBearer(auto_error=False, scheme_name="AdminToken", description="PQA_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(ADMIN_BEARER)] = None
) -> None:
    """The admin token (declared as a bearer scheme: /docs offers Authorize for it)."""
    authorization = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    refusal = admin_refusal(settings.admin_token, authorization)
    if refusal is not None:
        raise HTTPException(refusal[0], detail=refusal[1], headers={"WWW-Authenticate": "Bearer"})


def get_jobs(request: Request) -> ReindexJobs:
    return request.app.state.jobs


Admin = Depends(require_admin)
JobsDep = Annotated[ReindexJobs, Depends(get_jobs)]
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413)}


def _idle(jobs: ReindexJobs, what: str) -> None:
    if jobs.running():
        raise Conflict(f"a reindex is running; {what} again when it has finished")


@router.post("/api/reindex", response_model=JobStatus, status_code=202, dependencies=[Admin], responses=ERRORS)
def reindex(jobs: JobsDep) -> dict:
    """Run the incremental indexer in the background; poll the returned job (409 while one runs)."""
    return jobs.start()


@router.get("/api/reindex/{job_id}", response_model=JobStatus, dependencies=[Admin], responses=ERRORS)
def reindex_status(job_id: str, jobs: JobsDep) -> dict:
    """Progress and summary of a reindex job."""
    return jobs.get(job_id)


@router.post(
    "/api/reindex/{job_id}/cancel", response_model=JobStatus, status_code=202, dependencies=[Admin], responses=ERRORS
)
def cancel_reindex(job_id: str, jobs: JobsDep) -> dict:
    """Stop a running reindex at its next step; its corpus changes are undone."""
    return jobs.cancel(job_id)


@router.post("/api/documents", response_model=UploadResult, status_code=202, dependencies=[Admin], responses=ERRORS)
async def upload(
    settings: SettingsDep,
    jobs: JobsDep,
    files: Annotated[list[UploadFile], File()],
    replace: Annotated[bool, Query(description="Replace a document of the same name.")] = False,
) -> dict:
    """Add documents (txt, md, html, pdf, docx) to the corpus's upload folder and reindex, all or nothing."""
    _idle(jobs, "upload")
    limit = int(settings.max_upload_mb * 1024 * 1024)
    staged = []
    for upload_file in files:
        data = await upload_file.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{upload_file.filename or 'upload'}: over the {settings.max_upload_mb:g} MB upload limit")
        staged.append((upload_file.filename or "", data))
    # Parsing a document can take seconds: off the event loop, so the server keeps answering meanwhile.
    changes, replaced = await run_in_threadpool(plan_upload, settings, staged, replace)
    job = await run_in_threadpool(jobs.start, changes)  # the job board's I/O, and its wait for a finishing job
    corpus = settings.corpus_dir.resolve()
    return {"saved": [c.path.relative_to(corpus).as_posix() for c in changes], "replaced": replaced, "job": job}


@router.delete(
    "/api/documents/{doc_id}", response_model=DeleteResult, status_code=202, dependencies=[Admin], responses=ERRORS
)
def delete(doc_id: str, settings: SettingsDep, engine: EngineDep, jobs: JobsDep) -> dict:
    """Remove a document from the corpus and reindex; the file is restored if the reindex fails."""
    docs = {d["doc_id"]: d for d in engine.documents()}
    if doc_id not in docs:
        raise NotFound(f"unknown document {doc_id!r} (GET /api/documents lists them)")
    _idle(jobs, "delete")
    target = corpus_target(settings.corpus_dir, docs[doc_id]["path"])
    if not target.is_file():
        raise NotFound(f"{docs[doc_id]['path']} is no longer in the corpus; reindex to drop it")
    return {"deleted": doc_id, "job": jobs.start([Change(target, None)])}
