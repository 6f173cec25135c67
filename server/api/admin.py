"""Admin routes (reindex, upload, delete), behind a bearer token from settings."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, HTTPException, Request, UploadFile
from pydantic import BaseModel

from ..errors import IndexUnavailable, InvalidRequest
from .deps import EngineDep, SettingsDep
from .reindex import JobRunning, NotFound, ReindexJobs, check_upload, delete_document, safe_filename, save_upload
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


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    refusal = admin_refusal(settings.admin_token, authorization)
    if refusal is not None:
        raise HTTPException(refusal[0], detail=refusal[1], headers={"WWW-Authenticate": "Bearer"})


def get_jobs(request: Request) -> ReindexJobs:
    return request.app.state.jobs


Admin = Depends(require_admin)
JobsDep = Annotated[ReindexJobs, Depends(get_jobs)]
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413)}


def _start(jobs: ReindexJobs) -> dict:
    try:
        return jobs.start()
    except JobRunning as exc:
        raise HTTPException(409, detail=f"{exc}; poll GET /api/reindex/{exc.job['id']}") from exc


@router.post("/api/reindex", response_model=JobStatus, status_code=202, dependencies=[Admin], responses=ERRORS)
def reindex(jobs: JobsDep) -> dict:
    """Run the incremental indexer in the background; poll the returned job."""
    return _start(jobs)


@router.get("/api/reindex/{job_id}", response_model=JobStatus, dependencies=[Admin], responses=ERRORS)
def reindex_status(job_id: str, jobs: JobsDep) -> dict:
    """Progress and summary of a reindex job."""
    try:
        return jobs.get(job_id)
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc


@router.post("/api/documents", response_model=UploadResult, status_code=202, dependencies=[Admin], responses=ERRORS)
async def upload(settings: SettingsDep, jobs: JobsDep, files: Annotated[list[UploadFile], File()]) -> dict:
    """Add documents (txt, md, html, pdf, docx) to the corpus and reindex."""
    if jobs.running():
        raise HTTPException(409, detail="a reindex is running; upload again when it has finished")
    limit = int(settings.max_upload_mb * 1024 * 1024)
    staged = []
    for upload_file in files:
        data = await upload_file.read(limit + 1)
        staged.append((upload_file.filename or "", data))
    saved = []
    try:
        for name, data in staged:  # check every file before writing any
            if len(data) > limit:
                raise HTTPException(
                    413, detail=f"{safe_filename(name)}: over the {settings.max_upload_mb:g} MB upload limit"
                )
            check_upload(name, data, limit, settings)
        for name, data in staged:
            saved.append(save_upload(settings.corpus_dir, name, data, limit))
    except InvalidRequest as exc:
        raise HTTPException(400, detail=str(exc)) from exc
    return {"saved": saved, "job": _start(jobs)}


@router.delete(
    "/api/documents/{doc_id}", response_model=DeleteResult, status_code=202, dependencies=[Admin], responses=ERRORS
)
def delete(doc_id: str, settings: SettingsDep, engine: EngineDep, jobs: JobsDep) -> dict:
    """Remove a document from the corpus and reindex."""
    try:
        docs = {d["doc_id"]: d for d in engine.documents()}
    except IndexUnavailable as exc:
        raise HTTPException(503, detail=str(exc)) from exc
    if doc_id not in docs:
        raise HTTPException(404, detail=f"unknown document {doc_id!r} (GET /api/documents lists them)")
    if jobs.running():
        raise HTTPException(409, detail="a reindex is running; delete again when it has finished")
    try:
        delete_document(settings.corpus_dir, docs[doc_id]["path"])
    except (InvalidRequest, NotFound) as exc:
        raise HTTPException(400, detail=str(exc)) from exc
    return {"deleted": doc_id, "job": _start(jobs)}
