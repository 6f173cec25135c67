"""The chat page and the streaming chat endpoint (server-sent events)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from ..errors import IndexUnavailable
from .deps import ApiKeyDep, EngineDep, limit_new_sessions
from .schemas import ChatRequest, ChatResponse

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, engine: EngineDep) -> HTMLResponse:
    try:
        state = engine.state()
        covers, suggestions = engine.covers(state), engine.suggestions()
    except IndexUnavailable:
        covers, suggestions = "the documents, once an index is built", []  # the reason (with paths) is in the log
    context = {"covers": covers, "suggestions": suggestions, "max_chars": engine.settings.max_message_chars}
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/api/chat/stream",
    tags=["chat"],
    dependencies=[ApiKeyDep],
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`delta` events, then one `final` event with the /api/chat payload",
        }
    },
)
async def chat_stream(body: ChatRequest, engine: EngineDep, request: Request) -> StreamingResponse:
    """The answer as server-sent events: `delta` pieces of text, then `final` with the same payload as /api/chat."""
    limit_new_sessions(request, engine, body.session_id)
    result = await engine.achat(body.message, body.session_id, body.doc_ids)
    payload = ChatResponse(**result.__dict__).model_dump()

    async def events():  # async: a plain generator would be stepped in the thread pool, a hop per event
        yield _sse("start", {"session_id": payload["session_id"], "query": payload["query"]})
        for piece in re.findall(r"\S+\s*", payload["answer"]):
            yield _sse("delta", {"text": piece})
        yield _sse("final", payload)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
