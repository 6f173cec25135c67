"""How a serving process is set up (logging off the event loop, the interpreter's switch interval): the same
for the single process of ``python -m server`` and for each worker process of ``--workers N``."""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import socket
import sys

# The query-encoder thread takes the GIL back a few times per batch (tokenising, arrays, results); with
# Python's default 5 ms switch interval it waits that long behind the event loop each time (bench/README).
SWITCH_INTERVAL_S = 0.0002
# This server process among replicas and workers (in /healthz and in the reindex jobs' records).
PROCESS = f"{socket.gethostname()}:{os.getpid()}"


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "faiss", "bm25s", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_off_the_loop() -> logging.handlers.QueueListener:
    """Route every log record through a queue to a listener thread: the event loop only enqueues, and a slow
    terminal or disk never holds up an answer (one access-log line per request)."""
    root = logging.getLogger()
    records: queue.SimpleQueue = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, *root.handlers, respect_handler_level=True)
    root.handlers = [logging.handlers.QueueHandler(records)]
    listener.start()
    return listener


def prepare_serving_process() -> logging.handlers.QueueListener:
    """Logging and the switch interval of a process about to serve; returns the log listener to stop."""
    configure_logging()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return log_off_the_loop()
