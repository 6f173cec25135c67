"""Access logs with latency and index version, Prometheus metrics, body-size and rate limits."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from .admin import admin_refusal
from .errors import error_body

access_log = logging.getLogger("server.access")

KNOWN_PATHS = (
    "/api/chat/stream",
    "/api/chat",
    "/api/search",
    "/api/documents",
    "/api/suggestions",
    "/api/reindex",
    "/api/feedback",
    "/api/insights",
    "/insights",
    "/v1",
    "/healthz",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/static",
    "/",
)


def route_label(path: str) -> str:
    """A bounded label for metrics: the known route a path belongs to, else "other"."""
    for known in KNOWN_PATHS:
        if path == known or (known != "/" and path.startswith(known + "/")):
            return known
    return "other"


# Set by ``python -m server --workers N`` for its workers: each process writes its values to files there, and
# a scrape of any worker reads them all (prometheus_client's multiprocess mode).
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATEST = {"multiprocess_mode": "mostrecent"} if MULTIPROCESS else {}


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.replica = Gauge(
            "pqa_replica_info", "The machine this server runs on", ["replica"], registry=self.registry, **LATEST
        )
        self.replica.labels(socket.gethostname()).set(1)
        self.requests = Counter(
            "pqa_requests_total", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "pqa_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.documents = Gauge(
            "pqa_index_documents", "Documents in the index in service", registry=self.registry, **LATEST
        )
        self.chunks = Gauge("pqa_index_chunks", "Chunks in the index in service", registry=self.registry, **LATEST)
        self.version = Gauge(
            "pqa_index_info", "Index version in service", ["version", "model"], registry=self.registry, **LATEST
        )
        self.reindex_runs = Counter("pqa_reindex_runs_total", "Reindex jobs started", registry=self.registry)
        # Totals since start, read from the engine's query encoder: queries / batches is the mean batch size.
        self.encoder_batches = Gauge(
            "pqa_encoder_batches", "Query-encoder batches since start", registry=self.registry, **LATEST
        )
        self.encoder_queries = Gauge(
            "pqa_encoder_queries", "Queries encoded in batches since start", registry=self.registry, **LATEST
        )
        self.answers = Counter("pqa_answers_total", "Chat answers", ["answered"], registry=self.registry)
        self.feedback = Counter("pqa_feedback_total", "Ratings of answers", ["rating"], registry=self.registry)


class RateLimiter:
    """Token bucket per client address: ``per_minute`` requests with bursts of the same size."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            return (1.0 - tokens) / self.rate


CHAT_PATHS = frozenset({"/api/chat", "/api/chat/stream", "/v1/chat/completions"})


def is_admin(method: str, path: str) -> bool:
    """The admin endpoints: reindex jobs, uploads and deletes (the documents list is public), insights."""
    return (
        path == "/api/reindex"
        or path.startswith("/api/insights/")
        or path.startswith("/api/reindex/")
        or (path == "/api/documents" and method == "POST")
        or (path.startswith("/api/documents/") and method == "DELETE")
    )


SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class BodyRefused(Exception):
    """Raised from ``receive`` when a body passes its size limit or its deadline (the Gate answers 413 or 408)."""


class Gate:
    """One pure ASGI layer for every request: body and rate limits, security headers, metrics, access log.

    Pure ASGI rather than ``@app.middleware("http")``: no extra task or response wrapper per request, and the
    body limit is enforced while the body is read (a chunked body without Content-Length is cut at the limit).
    """

    def __init__(self, app, *, metrics: Metrics, settings, version_of: Callable[[], str | None]):
        self.app = app
        self.metrics = metrics
        self.version_of = version_of
        self.limiter = RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
        per_minute = settings.chat_rate_limit_per_minute
        self.chat_limiter = RateLimiter(per_minute) if per_minute else None
        self.admin_failures = RateLimiter(settings.admin_failures_per_minute)
        self.admin_token = settings.admin_token
        self.body_timeout = settings.body_timeout_seconds
        self.max_body = int(settings.max_body_kb * 1024)
        self.max_upload = int(settings.max_upload_mb * 1024 * 1024) * 10 + 65536  # a few files per upload

    @staticmethod
    async def _reply(send, path: str, status: int, detail: str, headers: list | None = None) -> None:
        body = json.dumps(error_body(path, status, detail)).encode()
        head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _with_headers(send, state: dict, path: str):
        """``send`` adding the security headers to the response start and noting its status."""

        async def sending(message):
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                if path != "/docs":  # FastAPI's API page uses its own inline script
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                    message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return sending

    def _wait(self, path: str, client: str) -> float:
        """Seconds the client must wait: the general rate limit, and the chat limit on the answering routes."""
        limiters = [self.limiter, self.chat_limiter if path in CHAT_PATHS else None]
        return max((limiter.allow(client) for limiter in limiters if limiter is not None), default=0.0)

    def _limit(self, path: str) -> int:
        return self.max_upload if path == "/api/documents" else self.max_body

    def _refusal(self, scope, method: str, path: str, client: str) -> tuple[int, str, list] | None:
        """(status, message, headers) when the request is refused before the app sees it, else None."""
        if is_admin(method, path):
            # Every admin token is checked here, before a body is read (a stranger's gigabyte is never
            # parsed), and wrong ones are throttled per client: guessing costs a minute per few tries.
            auth = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
            refusal = admin_refusal(self.admin_token, auth)
            if refusal is not None and refusal[0] == 401 and self.admin_failures.allow(client) > 0:
                refusal = (429, "too many wrong admin tokens; try again in a minute")
            if refusal is not None:
                return refusal[0], refusal[1], [(b"www-authenticate", b"Bearer")]
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > self._limit(path)):
            return 413, f"request body over the {self._limit(path) // 1024} KB limit", []
        if (wait := self._wait(path, client)) > 0:
            retry = [(b"retry-after", str(max(1, round(wait))).encode())]
            return 429, f"too many requests; try again in {wait:.1f} s", retry
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, method = scope["path"], scope["method"]
        client = scope["client"][0] if scope.get("client") else "-"
        state: dict = {"status": 500, "started": False, "refused": None}  # refused: (status, detail)
        sending = self._with_headers(send, state, path)
        try:
            refusal = self._refusal(scope, method, path, client)
            if refusal is not None:
                await self._reply(sending, path, *refusal)
            else:
                await self._serve(scope, receive, sending, state, started)
        finally:  # counted and logged even when the app raised (the outer layer answers 500)
            self._record(method, path, client, state["status"], time.perf_counter() - started)

    async def _serve(self, scope, receive, sending, state: dict, started: float) -> None:
        """Hand the request to the app with its body read under the size limit and the deadline: a body that
        passes either is answered 413 or 408, whatever the app was about to answer."""
        path = scope["path"]
        limit = self._limit(path)
        allowed = self.body_timeout * (10 if path == "/api/documents" else 1)  # uploads are bigger
        body_deadline = started + allowed
        received, body_done = 0, False

        async def send_with_headers(message):
            if state["refused"] is not None:
                # FastAPI turns the exception into "error parsing the body": the 413 or 408 it is goes instead.
                if message["type"] == "http.response.start" and not state["started"]:
                    await self._reply(sending, path, *state["refused"])
                return
            await sending(message)

        async def limited_receive():
            nonlocal received, body_done
            if body_done:  # after the body, receive() only waits for a disconnect: no deadline
                return await receive()
            try:
                # A cancel scope, not wait_for: no extra task per receive on the request path.
                async with asyncio.timeout(max(0.0, body_deadline - time.perf_counter())):
                    message = await receive()
            except TimeoutError:
                state["refused"] = (408, f"request body not received within {allowed:g} s")
                raise BodyRefused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    state["refused"] = (413, f"request body over the {limit // 1024} KB limit")
                    raise BodyRefused
                body_done = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyRefused:
            if not state["started"]:
                await self._reply(sending, path, *state["refused"])

    def _record(self, method: str, path: str, client: str, status: int, elapsed: float) -> None:
        route = route_label(path)
        self.metrics.requests.labels(route, method, str(status)).inc()
        self.metrics.latency.labels(route).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            line = {"method": method, "path": path, "status": status, "ms": round(elapsed * 1000, 2)}
            access_log.info(json.dumps(line | {"client": client, "index": self.version_of()}))


def install(app: FastAPI, settings, version_of: Callable[[], str | None]) -> Metrics:
    metrics = Metrics()
    app.add_middleware(Gate, metrics=metrics, settings=settings, version_of=version_of)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        engine = request.app.state.engine
        health = engine.health()
        if health["index"]:
            metrics.documents.set(health["index"]["documents"])
            metrics.chunks.set(health["index"]["chunks"])
            metrics.version.clear()
            metrics.version.labels(health["index"]["version"], health["index"]["model"]).set(1)
        metrics.encoder_batches.set(engine.aencoder.batches)
        metrics.encoder_queries.set(engine.aencoder.texts)
        registry = metrics.registry
        if MULTIPROCESS:  # every worker's values, whichever worker answers the scrape
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
