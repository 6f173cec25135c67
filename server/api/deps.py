"""Typed dependencies shared by the routes."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..answering.engine import QAEngine
from ..settings import Settings


# Async although they never wait: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request.
async def get_engine(request: Request) -> QAEngine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


API_KEY_BEARER = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="one of PQA_API_KEYS, when set")


async def require_api_key(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(API_KEY_BEARER)] = None
) -> None:
    """When ``PQA_API_KEYS`` is set, the request must carry one of them as a bearer token (the scheme is declared
    so that /docs offers Authorize; the header is read here, whatever its scheme, for a clear message)."""
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401, "this server needs an API key: send `Authorization: Bearer <key>`", {"WWW-Authenticate": "Bearer"}
        )
    given = token.strip().encode()
    # Compare with every key, each in constant time, so the timing says nothing about which key is close.
    matches = [secrets.compare_digest(given, key.encode()) for key in keys]
    if not any(matches):
        raise HTTPException(401, "the API key is not valid", {"WWW-Authenticate": "Bearer"})


def limit_new_sessions(request: Request, engine: QAEngine, session_id: str | None) -> None:
    """A request that starts a conversation (no session id, or one that is gone) counts against the client's
    new conversations per minute (``PQA_SESSIONS_PER_MINUTE``): sessions are stored, so they are not free."""
    limiter = request.app.state.session_limiter
    if limiter is None or (session_id and engine.sessions.exists(session_id)):
        return
    client = request.client.host if request.client else "-"
    wait = limiter.allow(client)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many new conversations; continue one with its session_id or try again in {wait:.0f} s",
            {"Retry-After": str(max(1, round(wait)))},
        )


EngineDep = Annotated[QAEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiKeyDep = Depends(require_api_key)
