"""Request and response models of the HTTP API (they make the OpenAPI page at /docs)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("is not valid Unicode text") from exc
    return value


# Strings of the request that are echoed back or used as keys must be valid Unicode (no lone surrogates).
Text = Annotated[str, AfterValidator(_unicode)]
DocId = Annotated[str, Field(max_length=300), AfterValidator(_unicode)]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: Text = Field(..., description="The user's question (at most PQA_MAX_MESSAGE_CHARS characters).")
    session_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    doc_ids: list[DocId] | None = Field(None, max_length=100, description="Only answer from these documents.")


class Passage(BaseModel):
    doc_id: str
    chunk_id: str
    title: str
    section: str = Field(..., description="Heading trail, e.g. 'Admissions › Spring Semester Entry'.")
    source: str = Field(..., description="URL of the original, or the file's path in the corpus.")
    page: int | None
    text: str = Field(..., description="The passage.")


class Citation(Passage):
    n: int
    score: float
    quotes: list[list[int]] = Field(default_factory=list, description="[start, end] of each quoted sentence in text.")


class ChatResponse(BaseModel):
    session_id: str
    answer: str
    answered: bool
    query: str = Field(..., description="The standalone query that was searched (follow-ups resolved).")
    citations: list[Citation]
    suggestions: list[str] = Field(default_factory=list)
    notice: str | None = None
    turn: int = Field(0, description="The answer's number in the session: rate it with POST /api/feedback.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Text = Field(..., description="At most PQA_MAX_MESSAGE_CHARS characters.")
    k: int = Field(5, description="Passages to return: 1 to PQA_SEARCH_MAX_K (50).")
    doc_ids: list[DocId] | None = Field(None, max_length=100)


class SearchResult(Passage):
    rank: int
    score: float


class SearchResponse(BaseModel):
    results: list[SearchResult]


class Document(BaseModel):
    doc_id: str
    title: str
    source: str
    kind: str | None = None
    path: str | None = None
    chunks: int
    content_hash: str
    indexed_at: str


class DocumentsResponse(BaseModel):
    documents: list[Document]


class IndexInfo(BaseModel):
    version: str
    documents: int
    chunks: int
    model: str
    built_at: str | None = None


class Health(BaseModel):
    status: str
    index: IndexInfo | None
    detail: str | None = None
    process: str | None = Field(None, description="host:pid of the server process that answered (replicas, workers).")


class Suggestions(BaseModel):
    covers: str
    suggestions: list[str]


class ErrorResponse(BaseModel):
    detail: str
