"""``python -m server``: serve (default), ``ask "question"``, ``evaluate SET.jsonl``, ``calibrate [SET[=PAGES] ...] [--write]``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from indexer.chunking import TRAIL_SEPARATOR
from indexer.errors import IndexerError

from .errors import QAError
from .runtime import configure_logging, prepare_serving_process
from .settings import Settings

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in ("serve", "ask", "evaluate", "calibrate", "insights") else "serve"
    if argv and argv[0] == command:
        argv = argv[1:]
    try:
        if command == "ask":
            return _ask(argv)
        if command == "evaluate":
            from .evaluate import main as evaluate

            return evaluate(argv)
        if command == "insights":
            from .insights_report import main as insights

            return insights(argv)
        if command == "calibrate":
            from .calibrate import main as calibrate

            return calibrate(argv)
        return _serve(argv)
    except (IndexerError, QAError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="Serve the chat page and the JSON API.")
    parser.add_argument("--host", default=None, help="default 127.0.0.1 (PQA_HOST)")
    parser.add_argument("--port", type=int, default=None, help="default 8000 (PQA_PORT)")
    parser.add_argument("--workers", type=int, default=None, help="server processes on the port (PQA_WORKERS, 1)")
    args = parser.parse_args(argv)
    listener = prepare_serving_process()
    try:
        settings = Settings()
        settings = settings.model_copy(
            update={
                "host": args.host or settings.host,
                "port": args.port or settings.port,
                "workers": args.workers or settings.workers,
            }
        )
        return _run_workers(settings) if settings.workers > 1 else _run(settings)
    finally:
        listener.stop()  # writes what is still queued


def _config(settings: Settings, app, **extra):
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        # Forwarded headers are believed only from the configured proxies: anyone else could forge them.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        limit_concurrency=1000,  # beyond this many open connections and tasks, new requests get 503 at once
        timeout_keep_alive=5,
        **extra,
    )


def _run(settings: Settings) -> int:
    import uvicorn

    from .api.app import create_app
    from .api.protocol import limited_protocol

    app = create_app(settings)

    class Announcing(uvicorn.Server):
        """uvicorn's server, printing one line with the URL and what is indexed once the socket is bound."""

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                index = app.state.engine.health()["index"]
                what = (
                    f"{index['documents']} documents, {index['chunks']} passages (index {index['version']})"
                    if index
                    else "no index yet: run `python -m indexer`"
                )
                print(f"Program Q&A is ready at http://{settings.host}:{settings.port}/ — {what}", flush=True)

    # Slow headers: connection closed; headers too big or too many: 431; too many connections from one client
    # address: the new ones closed at once.
    protocol = limited_protocol(
        settings.header_timeout_seconds,
        max_header_bytes=int(settings.max_header_kb * 1024),
        max_headers=settings.max_headers,
        max_connections=settings.max_connections_per_client,
    )
    server = Announcing(_config(settings, app, http=protocol))
    server.run()
    return 0 if server.started else 1


def _run_workers(settings: Settings) -> int:
    """``settings.workers`` processes accepting on one socket (uvicorn's supervisor restarts one that dies);
    each loads the model and the index itself and reads its settings from the environment."""
    from uvicorn.supervisors import Multiprocess

    os.environ.update({"PQA_HOST": settings.host, "PQA_PORT": str(settings.port), "PQA_WORKERS": str(settings.workers)})
    # Metrics aggregated across the workers: each writes its values under this folder (emptied at each start).
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="pqa-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    config = _config(
        settings,
        "server.api.app:create_worker_app",
        factory=True,
        workers=settings.workers,
        http="server.api.protocol:LimitedProtocol",
    )
    sockets = [config.bind_socket()]
    print(
        f"Program Q&A is starting {settings.workers} worker processes at http://{settings.host}:{settings.port}/",
        flush=True,
    )
    Multiprocess(config, sockets=sockets).run()
    return 0


def _ask(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m server ask", description="Answer one question without the server.")
    parser.add_argument("question", nargs="+")
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING)
    from .answering.engine import QAEngine

    engine = QAEngine(Settings())
    engine.start()
    result = engine.chat(" ".join(args.question))
    print(result.answer)
    if result.citations:
        print()
        for c in result.citations:
            where = f"{TRAIL_SEPARATOR}{c['section']}" if c["section"] else ""
            page = f", p. {c['page']}" if c["page"] else ""
            print(f"[{c['n']}] {c['title']}{where}{page} — {c['source']}")
    engine.close()
    return 0 if result.answered else 2
