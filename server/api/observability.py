"""Access logs with latency and index version, Prometheus metrics, body-size and rate limits."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

access_log = logging.getLogger("server.access")

KNOWN_PATHS = (
    "/api/chat/stream",
    "/api/chat",
    "/api/search",
    "/api/documents",
    "/api/suggestions",
    "/api/reindex",
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


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
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
        self.documents = Gauge("pqa_index_documents", "Documents in the index in service", registry=self.registry)
        self.chunks = Gauge("pqa_index_chunks", "Chunks in the index in service", registry=self.registry)
        self.version = Gauge("pqa_index_info", "Index version in service", ["version", "model"], registry=self.registry)
        self.reindex_runs = Counter("pqa_reindex_runs_total", "Reindex jobs started", registry=self.registry)
        self.answers = Counter("pqa_answers_total", "Chat answers", ["answered"], registry=self.registry)


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


def install(app: FastAPI, settings, version_of: Callable[[], str | None]) -> Metrics:
    metrics = Metrics()
    limiter = RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
    max_body = int(settings.max_body_kb * 1024)
    max_upload = int(settings.max_upload_mb * 1024 * 1024) * 10 + 65536  # a few files per upload

    @app.middleware("http")
    async def guard_and_log(request: Request, call_next):
        started = time.perf_counter()
        route = route_label(request.url.path)
        client = request.client.host if request.client else "-"
        response: Response
        limit = max_upload if request.url.path == "/api/documents" else max_body
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = JSONResponse({"detail": f"request body over the {limit // 1024} KB limit"}, status_code=413)
        elif limiter is not None and (wait := limiter.allow(client)) > 0:
            response = JSONResponse(
                {"detail": f"too many requests; try again in {wait:.1f} s"},
                status_code=429,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        else:
            response = await call_next(request)
        elapsed = time.perf_counter() - started
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        metrics.latency.labels(route).observe(elapsed)
        access_log.info(
            json.dumps(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                    "client": client,
                    "index": version_of(),
                }
            )
        )
        return response

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        engine = request.app.state.engine
        health = engine.health()
        if health["index"]:
            metrics.documents.set(health["index"]["documents"])
            metrics.chunks.set(health["index"]["chunks"])
            metrics.version.clear()
            metrics.version.labels(health["index"]["version"], health["index"]["model"]).set(1)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
