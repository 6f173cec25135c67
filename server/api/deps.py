"""Typed dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..answering.engine import QAEngine
from ..settings import Settings


def get_engine(request: Request) -> QAEngine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


EngineDep = Annotated[QAEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
