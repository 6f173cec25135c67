"""``python -m indexer --watch``: rebuild when the corpus folder changes (polling, debounced)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from .build import build
from .errors import IndexerError
from .settings import IndexSettings

logger = logging.getLogger(__name__)


def snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    """Path → (mtime, size) of every file below the folder."""
    out = {}
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                stat = path.stat()
                out[str(path)] = (stat.st_mtime, stat.st_size)
        except FileNotFoundError:
            continue
    return out


def watch(
    settings: IndexSettings, *, interval: float = 1.0, debounce: float = 2.0, max_cycles: int | None = None
) -> int:
    """Build once, then again each time the corpus has changed and stayed unchanged for ``debounce`` s."""
    _run(settings)
    seen = snapshot(settings.corpus_dir)
    changed_at: float | None = None
    cycles = 0
    logger.info("watching %s for changes (Ctrl+C to stop)", settings.corpus_dir)
    try:
        while max_cycles is None or cycles < max_cycles:
            cycles += 1
            time.sleep(interval)
            now = snapshot(settings.corpus_dir)
            if now != seen:
                seen, changed_at = now, time.monotonic()
            elif changed_at is not None and time.monotonic() - changed_at >= debounce:
                changed_at = None
                _run(settings)
    except KeyboardInterrupt:
        pass
    return 0


def _run(settings: IndexSettings) -> None:
    try:
        summary = build(settings)
        logger.info("%s", summary.line())
    except IndexerError as exc:
        logger.error("reindex failed, previous version kept: %s", exc)
