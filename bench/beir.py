"""Retrieval quality on a BEIR-format dataset with the project's own indexer and retriever.

    python bench/beir.py DIR [--split test|train] [--json] [--tune]

Each corpus document is written as a file with front matter, indexed by ``indexer.build`` (chunked,
embedded, BM25), and searched by ``indexer.search.Retriever``; a document scores as its best chunk.
Embeddings are cached in the work folder, so a re-run takes seconds. Prints nDCG@10 and Recall@100
for dense only, BM25 only and the hybrid; ``--tune`` also sweeps the fusion settings (use --split train).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.build import build  # noqa: E402
from indexer.encoders import make_embedder  # noqa: E402
from indexer.search import RetrievalConfig, Retriever  # noqa: E402
from indexer.settings import IndexSettings  # noqa: E402
from indexer.store import load_current  # noqa: E402


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        parts = line.strip().split("\t")
        if i == 0 and not parts[-1].strip().isdigit():
            continue
        if len(parts) == 3 and int(parts[2]) > 0:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def write_corpus(docs: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        path = folder / f"{doc['_id']}.txt"
        title = (doc.get("title") or "").replace('"', "'")
        text = f'---\ntitle: "{title}"\ndoc_id: "{doc["_id"]}"\n---\n{doc["text"]}\n' if title else doc["text"] + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int = 100) -> float:
    return len(set(ranked[:k]) & set(rel)) / len(rel) if rel else 0.0


def run(retriever, queries, vectors, qrels, config) -> dict:
    ndcg, recall = [], []
    index = retriever.index
    for (qid, text), vector in zip(queries, vectors, strict=True):
        hits = retriever.search(text, vector, k=300, config=config)
        ranked: list[str] = []
        for hit in hits:
            doc = index.chunks[hit.row].doc_id
            if doc not in ranked:
                ranked.append(doc)
        ndcg.append(ndcg_at(ranked, qrels[qid]))
        recall.append(recall_at(ranked, qrels[qid]))
    return {"ndcg@10": round(float(np.mean(ndcg)), 4), "recall@100": round(float(np.mean(recall)), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--split", default="test", choices=["test", "train", "dev"])
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / "results" / "beir")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument(
        "--encoder", choices=["onnx", "torch"], default="onnx", help="each encoder has its own work folder"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    name = args.dir.resolve().name
    work = args.work / (name if args.encoder == "torch" else f"{name}-{args.encoder}")
    started = time.perf_counter()
    write_corpus(read_jsonl(args.dir / "corpus.jsonl"), work / "corpus")
    settings = IndexSettings(
        corpus_dir=work / "corpus",
        index_dir=work / "index",
        embed_sentences=False,
        encoder=args.encoder,
        _env_file=None,
    )
    summary = build(settings, progress=not args.json and sys.stderr.isatty())
    index = load_current(work / "index")
    qrels = read_qrels(args.dir / "qrels" / f"{args.split}.tsv")
    queries = [(q["_id"], q["text"]) for q in read_jsonl(args.dir / "queries.jsonl") if q["_id"] in qrels]
    embedder = make_embedder(settings)
    vectors = embedder.embed([t for _, t in queries])
    retriever = Retriever(index)
    base = replace(RetrievalConfig(), mmr_lambda=1.0, pool=300)  # ranking quality: no diversification
    results = {
        "dense": run(retriever, queries, vectors, qrels, replace(base, mode="dense")),
        "bm25": run(retriever, queries, vectors, qrels, replace(base, mode="bm25")),
        "hybrid": run(retriever, queries, vectors, qrels, base),
    }
    if args.tune:
        for weight in (0.1, 0.2, 0.3, 0.4, 0.5, 0.7):
            results[f"convex w={weight}"] = run(retriever, queries, vectors, qrels, replace(base, bm25_weight=weight))
        results["rrf k=60"] = run(retriever, queries, vectors, qrels, replace(base, fusion="rrf"))
    if args.json:
        print(json.dumps({k: results[k] for k in ("dense", "bm25", "hybrid")}))
    else:
        print(
            f"{name} {args.split} ({embedder.backend}): {len(queries)} queries, {len(index.documents)} documents, {len(index.chunks)} chunks; "
            f"index build {summary.seconds:.1f} s (embedded {summary.embedded}); total {time.perf_counter() - started:.1f} s"
        )
        print(f"{'method':<16} {'nDCG@10':>8} {'R@100':>8}")
        for method, figures in results.items():
            print(f"{method:<16} {figures['ndcg@10']:>8.4f} {figures['recall@100']:>8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
