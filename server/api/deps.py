"""Typed dependencies shared by the routes."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..answering.engine import QAEngine
from ..settings import Settings


# Async although they never wait: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per request.
async def get_engine(request: Request) -> QAEngine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def require_api_key(request: Request) -> None:
    """When ``PQA_API_KEYS`` is set, the request must carry one of them as a bearer token."""
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


EngineDep = Annotated[QAEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiKeyDep = Depends(require_api_key)
