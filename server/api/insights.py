"""Feedback on answers, and the owners' insights (the questions the pages could not answer, what each page
leaves out) with their page at /insights. Thin routes over ``answering.insights`` and ``answering.coverage``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from ..answering.insights import RATINGS, REASONS
from .admin import Admin
from .deps import ApiKeyDep, EngineDep
from .schemas import ErrorResponse
from .web import templates

router = APIRouter()
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422, 503)}
Reason = Literal[tuple(REASONS)]  # the reasons the insights know (answering.insights.REASONS)
Rating = Literal[tuple(RATINGS)]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    turn: int | None = Field(None, ge=1, description="The turn's number in the session (`turn` of /api/chat).")
    response_id: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="The `id` of a /v1/chat/completions answer."
    )
    rating: Rating
    reason: Reason | None = Field(None, description="Why an answer was not helpful.")

    @model_validator(mode="after")
    def _names_a_turn(self) -> FeedbackRequest:
        if self.response_id is None and (self.session_id is None or self.turn is None):
            raise ValueError("name the answer: session_id and turn, or response_id")
        if self.response_id is not None and self.session_id is not None:
            raise ValueError("give session_id and turn, or response_id, not both")
        return self


class FeedbackResult(BaseModel):
    session_id: str
    turn: int
    rating: str
    stored: bool = Field(..., description="False when PQA_INSIGHTS=off: counted in /metrics, not kept.")


@router.post(
    "/api/feedback", response_model=FeedbackResult, responses=ERRORS, tags=["feedback"], dependencies=[ApiKeyDep]
)
async def feedback(body: FeedbackRequest, engine: EngineDep, request: Request) -> FeedbackResult:
    """Rate an answer: helpful (`up`) or not (`down`, with an optional reason)."""
    session_id, turn = (body.response_id, 1) if body.response_id else (body.session_id, body.turn)
    await run_in_threadpool(engine.insights.rate, session_id, turn, body.rating, body.reason)
    request.app.state.metrics.feedback.labels(body.rating).inc()
    return FeedbackResult(session_id=session_id, turn=turn, rating=body.rating, stored=engine.insights.enabled)


@router.get("/api/insights/unanswered", responses=ERRORS, tags=["insights"], dependencies=[Admin])
def unanswered(engine: EngineDep, days: float = Query(30, gt=0, le=3650)) -> dict:
    """The questions refused or rated down in the last `days`, grouped by document (or unknown name) and fact."""
    return engine.unanswered(days)


@router.get("/api/insights/coverage", responses=ERRORS, tags=["insights"], dependencies=[Admin])
def coverage(engine: EngineDep) -> dict:
    """For each document, which common facts the bot answers from it (with the quote) and which it cannot."""
    return engine.coverage()


@router.get("/insights", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    """The owners' page: it asks for the admin token once per tab and reads the two reports above."""
    return templates.TemplateResponse(request, "insights.html", {})
