"""JSON API routes: thin translations between HTTP and the answering library."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from ..errors import IndexUnavailable, InvalidRequest
from .deps import EngineDep
from .schemas import (
    ChatRequest,
    ChatResponse,
    DocumentsResponse,
    ErrorResponse,
    Health,
    SearchRequest,
    SearchResponse,
    Suggestions,
)

router = APIRouter()
ERRORS = {400: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def translate(exc: Exception) -> HTTPException:
    if isinstance(exc, InvalidRequest):
        return HTTPException(400, detail=str(exc))
    if isinstance(exc, IndexUnavailable):
        return HTTPException(503, detail=str(exc))
    raise exc


@router.post("/api/chat", response_model=ChatResponse, responses=ERRORS, tags=["chat"])
def chat(body: ChatRequest, engine: EngineDep, request: Request) -> ChatResponse:
    """Answer a message, with citations; pass `session_id` back to ask follow-ups."""
    try:
        result = engine.chat(body.message, body.session_id, body.doc_ids)
    except (InvalidRequest, IndexUnavailable) as exc:
        raise translate(exc) from exc
    request.app.state.metrics.answers.labels(str(result.answered).lower()).inc()
    return ChatResponse(**result.__dict__)


@router.post("/api/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
def search(body: SearchRequest, engine: EngineDep) -> SearchResponse:
    """The top passages for a query (hybrid dense + BM25 retrieval)."""
    try:
        return SearchResponse(results=engine.search(body.query, body.k, body.doc_ids))
    except (InvalidRequest, IndexUnavailable) as exc:
        raise translate(exc) from exc


@router.get("/api/documents", response_model=DocumentsResponse, responses=ERRORS, tags=["documents"])
def documents(engine: EngineDep) -> DocumentsResponse:
    """The indexed documents."""
    try:
        return DocumentsResponse(documents=engine.documents())
    except IndexUnavailable as exc:
        raise translate(exc) from exc


@router.get("/api/suggestions", response_model=Suggestions, responses=ERRORS, tags=["chat"])
def suggestions(engine: EngineDep) -> Suggestions:
    """What the corpus covers and questions drawn from it."""
    try:
        state = engine.state()
    except IndexUnavailable as exc:
        raise translate(exc) from exc
    return Suggestions(covers=engine.covers(state), suggestions=engine.suggestions())


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(engine: EngineDep) -> Health:
    """Liveness and the index in service."""
    return Health(**engine.health())
