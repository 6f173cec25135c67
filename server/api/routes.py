"""JSON API routes: thin translations between HTTP and the answering library.

Errors of the answering library become status codes in one place, the app's exception handlers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..runtime import PROCESS
from .deps import ApiKeyDep, EngineDep, limit_new_sessions
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
KEYED = {**ERRORS, 401: {"model": ErrorResponse}}


@router.post("/api/chat", response_model=ChatResponse, responses=KEYED, tags=["chat"], dependencies=[ApiKeyDep])
async def chat(body: ChatRequest, engine: EngineDep, request: Request) -> ChatResponse:
    """Answer a message, with citations; pass `session_id` back to ask follow-ups."""
    # On the event loop: the query is encoded by the async batcher, the rest (a few ms of Python) inline.
    limit_new_sessions(request, engine, body.session_id)
    result = await engine.achat(body.message, body.session_id, body.doc_ids)
    return ChatResponse(**result.__dict__)


@router.post("/api/search", response_model=SearchResponse, responses=KEYED, tags=["search"], dependencies=[ApiKeyDep])
async def search(body: SearchRequest, engine: EngineDep) -> SearchResponse:
    """The top passages for a query (hybrid dense + BM25 retrieval)."""
    return SearchResponse(results=await engine.asearch(body.query, body.k, body.doc_ids))


@router.get("/api/documents", response_model=DocumentsResponse, responses=ERRORS, tags=["documents"])
def documents(engine: EngineDep) -> DocumentsResponse:
    """The indexed documents."""
    return DocumentsResponse(documents=engine.documents())


@router.get("/api/suggestions", response_model=Suggestions, responses=ERRORS, tags=["chat"])
def suggestions(engine: EngineDep) -> Suggestions:
    """What the corpus covers and questions drawn from it."""
    return Suggestions(covers=engine.covers(engine.state()), suggestions=engine.suggestions())


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
def healthz(engine: EngineDep) -> JSONResponse:
    """Readiness: 200 with the index in service, 503 while no index can be served (a load balancer skips it)."""
    health = Health(**engine.health(), process=PROCESS)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)


@router.get("/livez", tags=["health"])
def livez() -> dict:
    """Liveness: 200 while the process runs, index or not."""
    return {"status": "alive"}
