"""The app factory: settings in, a FastAPI app out; the model and index load in the lifespan."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from indexer.model import Embedder

from .api import router as api_router
from .engine import QAEngine
from .settings import Settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = QAEngine(settings, embedder=embedder)
        engine.start()
        stop = threading.Event()
        watcher = threading.Thread(target=engine.watch, args=(stop,), name="index-watcher", daemon=True)
        watcher.start()
        app.state.engine = engine
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=5)
            engine.close()

    app = FastAPI(
        title="Program Q&A",
        version="0.1.0",
        description="Answers questions about graduate programs and careers from a folder of documents, with citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable sentence instead of pydantic's nested error list.
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", []) if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse(status_code=422, content={"detail": "; ".join(problems) or "invalid request"})

    app.include_router(api_router)
    return app
