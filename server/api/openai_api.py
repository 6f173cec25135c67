"""An OpenAI-compatible surface: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Chat front-ends and SDKs that speak the OpenAI Chat Completions protocol (the ``openai`` clients, Open WebUI,
LibreChat, LangChain) can use the product as a model. It is stateless: the conversation is the ``messages`` list,
whose user messages are replayed through the same follow-up resolution as a session. The answer text keeps its
``[n]`` markers and ends with a short source list; the citations travel as structured data in the extra
``program_qa`` field of the response and of the final stream chunk.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from indexer.chunking import TRAIL_SEPARATOR, section_leaf

from ..answering.engine import ChatResult
from ..errors import InvalidRequest
from .deps import ApiKeyDep, EngineDep, SettingsDep
from .schemas import Citation, Text

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[ApiKeyDep])


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: Text | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Text | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class CompletionRequest(BaseModel):
    """OpenAI's request body. Fields that do not apply (temperature, max_tokens, user, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[Message] = Field(..., min_length=1, max_length=500)
    stream: bool = False
    doc_ids: list[str] | None = Field(None, max_length=100, description="Only answer from these documents (extension).")


class Extra(BaseModel):
    """The product's own data, carried in the extra ``program_qa`` field."""

    answered: bool
    query: str = Field(..., description="The standalone question that was searched (follow-ups resolved).")
    citations: list[Citation]
    index_version: str | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Field(..., description="Counted in words: the answer is extracted, not generated.")
    program_qa: Extra


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "program-qa"
    index_version: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def _words(text: str) -> int:
    return len(text.split())


def content_with_sources(result: ChatResult) -> str:
    """The answer text, then one line per source, so a client that ignores ``program_qa`` still shows them."""
    if not result.citations:
        return result.answer
    lines = []
    for c in result.citations:
        where = f"{TRAIL_SEPARATOR}{section_leaf(c['section'])}" if c["section"] else ""
        page = f", p. {c['page']}" if c["page"] else ""
        lines.append(f"[{c['n']}] {c['title']}{where}{page} — {c['source']}")
    return result.answer + "\n\nSources:\n" + "\n".join(lines)


def _extra(result: ChatResult, version: str | None) -> Extra:
    return Extra(answered=result.answered, query=result.query, citations=result.citations, index_version=version)


@router.post("/chat/completions", response_model=Completion)
async def chat_completions(body: CompletionRequest, engine: EngineDep, settings: SettingsDep, request: Request):
    """Answer the last user message; earlier user messages are the conversation. `stream: true` gives SSE chunks."""
    if len(body.messages) > settings.max_request_messages:
        raise InvalidRequest(
            f"{len(body.messages)} messages in one request; the limit is {settings.max_request_messages}"
        )
    users = [m.text() for m in body.messages if m.role == "user"]
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    # Stored under its id (as turn 1 of a session of that name): POST /api/feedback {"response_id": id} rates it.
    result = await engine.acomplete(users, body.doc_ids, record_as=ident)
    version = engine.version()
    content = content_with_sources(result)
    if not body.stream:
        prompt = sum(_words(u) for u in users)
        return Completion(
            id=ident,
            created=created,
            model=settings.model_name,
            choices=[Choice(message=AssistantMessage(content=content))],
            usage=Usage(prompt_tokens=prompt, completion_tokens=_words(content), total_tokens=prompt + _words(content)),
            program_qa=_extra(result, version),
        )

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": settings.model_name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def events():  # async: a plain generator would be stepped in the thread pool, a hop per chunk
        yield chunk({"role": "assistant", "content": ""})
        for piece in re.findall(r"\s*\S+\s*", content):
            yield chunk({"content": piece})
        yield chunk({}, "stop", program_qa=_extra(result, version).model_dump())
        yield "data: [DONE]\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get("/models", response_model=ModelList)
def models(engine: EngineDep, settings: SettingsDep) -> ModelList:
    """The one model this server answers as, with the index version in service."""
    return ModelList(data=[ModelCard(id=settings.model_name, created=engine.started, index_version=engine.version())])
