"""The app factory: settings in, a FastAPI app out; the model and index load in the lifespan."""

from __future__ import annotations

import importlib.util
import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.build import corpus_differs
from indexer.model import Embedder

from ..answering.engine import QAEngine
from ..errors import QAError, status_of
from ..settings import Settings
from .admin import router as admin_router
from .errors import error_body
from .insights import router as insights_router
from .observability import RateLimiter
from .observability import install as install_observability
from .openai_api import router as openai_router
from .protocol import LimitedProtocol
from .reindex import ReindexJobs, clean_stale
from .routes import router as api_router
from .web import router as web_router

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
# Swagger UI 5 (reads OpenAPI 3.1, which FastAPI writes), shipped inside the fastapi-swagger package: offline.
SWAGGER = Path(importlib.util.find_spec("fastapi_swagger").submodule_search_locations[0]) / "resources"


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="Program Q&A",
        version="0.1.0",
        description="Answers questions about graduate programs and careers from a folder of documents, with citations.",
        lifespan=_lifespan(settings, embedder),
        docs_url=None,  # served below from the fastapi-swagger package: works offline
        redoc_url=None,
    )
    app.state.settings = settings
    per_minute = settings.sessions_per_minute
    app.state.session_limiter = RateLimiter(per_minute) if per_minute else None
    _install_error_handlers(app)

    def version_in_service() -> str | None:
        engine = getattr(app.state, "engine", None)
        return engine.version() if engine is not None else None

    app.state.metrics = install_observability(app, settings, version_in_service)
    if settings.cors_origins:  # off unless configured
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"])
    for router in (api_router, openai_router, admin_router, insights_router, web_router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.mount("/docs-assets", StaticFiles(directory=str(SWAGGER)), name="docs-assets")
    _install_docs(app)
    return app


def create_worker_app() -> FastAPI:
    """The app of one worker process of ``python -m server --workers N`` (uvicorn calls it in each process):
    settings from the environment, the process set up as the single server's is."""
    from ..runtime import prepare_serving_process

    prepare_serving_process()  # its log listener lives as long as the process
    settings = Settings()
    LimitedProtocol.configure(settings)
    return create_app(settings)


def _lifespan(settings: Settings, embedder: Embedder | None):
    """Start-up and shutdown: the model and index load once, the index watcher and the reindex jobs start."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = QAEngine(settings, embedder=embedder)
        engine.suggest_in_background = True
        answers = app.state.metrics.answers
        engine.on_answer = lambda result: answers.labels(str(result.answered).lower()).inc()  # counted once here
        engine.start()
        stop = threading.Event()
        watcher = threading.Thread(target=engine.watch, args=(stop,), name="index-watcher", daemon=True)
        watcher.start()
        app.state.engine = engine
        app.state.jobs = ReindexJobs(
            settings, on_published=engine.reload, on_start=app.state.metrics.reindex_runs.inc, embedder=engine.embedder
        )
        clean_stale(settings)
        app.state.jobs.recover()  # jobs of processes that died: marked failed, the corpus indexed as it stands
        if corpus_differs(settings, engine.embedder.model_id):
            # Files added, changed or removed while the server was down (or a killed upload): catch up.
            logger.info("the corpus differs from the index in service: reindexing")
            app.state.jobs.catch_up()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=5)
            engine.close()

    return lifespan


def _error(request: Request, status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(request.url.path, status, message), headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One readable sentence instead of pydantic's nested error list.
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                problems.append("the body is not valid JSON")
                continue
            where = ".".join(str(p) for p in err.get("loc", []) if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error(request, 422, "; ".join(dict.fromkeys(problems)) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not UTF-8 or nests too deeply to decode: not JSON to us.
            return _error(request, 422, "the body is not valid JSON")
        return _error(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(QAError)
    async def answering_error(request: Request, exc: QAError) -> JSONResponse:
        # The answering library's errors, mapped to status codes by the one table (server.errors.STATUS).
        return _error(request, status_of(exc), str(exc))


def _install_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="Program Q&A API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
