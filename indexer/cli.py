"""Command line: ``python -m indexer [--full] ...`` builds; ``python -m indexer search "query"`` searches."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import IndexerError
from .settings import IndexSettings

logger = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> IndexSettings:
    overrides = {}
    if getattr(args, "corpus", None):
        overrides["corpus_dir"] = args.corpus
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = args.index_dir
    if getattr(args, "model", None):
        overrides["model"] = args.model
    return IndexSettings(**overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Build or update the index from the corpus.")
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/ or PQA_CORPUS_DIR)")
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index/ or PQA_INDEX_DIR)")
    parser.add_argument("--model", help="embedding model: local folder or hub name (default: bundled all-MiniLM-L6-v2)")
    parser.add_argument("--full", action="store_true", help="rebuild from scratch, ignoring the previous version")
    parser.add_argument("--watch", action="store_true", help="keep running and reindex when the corpus changes")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return parser


def search_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer search", description="Print the top passages for a query.")
    parser.add_argument("query")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--model")
    parser.add_argument("-k", type=int, default=5)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "faiss", "bm25s", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if argv and argv[0] == "search":
            return _search(search_parser().parse_args(argv[1:]))
        args = build_parser().parse_args(argv)
        settings = _settings(args)
        if args.watch:
            from .watch import watch

            return watch(settings)
        from .build import build

        summary = build(settings, full=args.full, progress=not args.quiet and sys.stderr.isatty())
        print(summary.line())
        for message in summary.skipped:
            print(f"skipped: {message}", file=sys.stderr)
        return 0
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index version is still in service", file=sys.stderr)
        return 130


def _search(args: argparse.Namespace) -> int:
    from .chunking import TRAIL_SEPARATOR
    from .encoders import make_embedder
    from .model import resolve_model
    from .search import Retriever
    from .store import load_current

    settings = _settings(args)
    spec = resolve_model(settings.model)
    index = load_current(settings.index_dir, expected_model=spec.model_id)
    embedder = make_embedder(settings, spec)
    hits = Retriever(index).search(args.query, embedder.embed([args.query])[0], k=max(1, min(args.k, 50)))
    for rank, hit in enumerate(hits, start=1):
        chunk = index.chunks[hit.row]
        where = f"{TRAIL_SEPARATOR}{chunk.section}" if chunk.section else ""
        page = f" (p. {chunk.page})" if chunk.page else ""
        print(f"{rank}. [{hit.score:.3f}] {chunk.title}{where}{page}")
        text = " ".join(chunk.text.split())
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
    if not hits:
        print("no passages found")
    return 0
