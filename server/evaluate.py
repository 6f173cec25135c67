"""``python -m server evaluate SET.jsonl [--url URL]``: score answers and retrieval on a question set.

The set's format and scoring are those of ``shared/eval/chat_eval.py``: a single-turn or conversation
turn passes when it is answered, every answer pattern matches, the answer is short enough and a cited
passage referenced as [n] holds every evidence term; an out-of-scope question passes when refused.
Retrieval: hit@5 and MRR@10 of search on the single-turn questions. Without --url the system runs
in-process on the configured index.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MAX_ANSWER = 800


def _norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").lower()


def holds(passage: dict, evidence: list[str]) -> bool:
    """The passage's title, section and text hold every evidence term (case and spacing ignored)."""
    text = _norm(" ".join(str(passage.get(k) or "") for k in ("title", "section", "text")))
    return all(_norm(e) in text for e in evidence)


def evidence_groups(evidence: list) -> list[list[str]]:
    """Evidence is a list of terms (one passage holds them all) or a list of such lists."""
    return evidence if evidence and isinstance(evidence[0], list) else [evidence]


def score_turn(resp: dict, turn: dict) -> list[str]:
    answer = resp.get("answer") or ""
    why = []
    if not resp.get("answered"):
        why.append("abstained")
    for pattern in turn.get("answer_patterns", []):
        if not re.search(pattern, answer, re.I):
            why.append(f"missing /{pattern}/")
    if len(answer) > MAX_ANSWER:
        why.append(f"answer {len(answer)} chars")
    referenced = [c for c in resp.get("citations") or [] if f"[{c.get('n')}]" in answer]
    for group in evidence_groups(turn.get("evidence", [])):
        if not any(holds(c, group) for c in referenced):
            why.append("no cited passage holds " + repr(group[0])[:60])
    return why


class _Http:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def __call__(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())


class InProcess:
    """Answers evaluation calls from an engine directly, with the API's request shapes."""

    def __init__(self, engine):
        self.engine = engine

    def __call__(self, path: str, body: dict) -> dict:
        if path == "/api/chat":
            return self.engine.chat(body["message"], body.get("session_id"), body.get("doc_ids")).__dict__
        return {"results": self.engine.search(body["query"], body.get("k", 5), body.get("doc_ids"))}


@dataclass
class _Tally:
    """Counts of one evaluation run as it goes."""

    latencies: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    fails: list[tuple[str, str]] = field(default_factory=list)
    single: int = 0
    single_ok: int = 0
    oos: int = 0
    oos_ok: int = 0
    turns: int = 0
    turns_ok: int = 0
    convs: int = 0
    convs_ok: int = 0
    hits5: float = 0.0
    rr: float = 0.0

    def pct(self, p: float) -> float | None:
        ordered = sorted(self.latencies)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1) if ordered else None

    def figures(self) -> dict:
        single = max(self.single, 1)
        return {
            "answer_accuracy": round(self.single_ok / single, 3),
            "hit_at_5": round(self.hits5 / single, 3),
            "mrr_at_10": round(self.rr / single, 3),
            "abstention_accuracy": round(self.oos_ok / max(self.oos, 1), 3),
            "turn_accuracy": round(self.turns_ok / max(self.turns, 1), 3),
            "conversations_passed": f"{self.convs_ok}/{self.convs}",
            "median_answer_chars": int(statistics.median(self.lengths)) if self.lengths else 0,
            "latency_ms_p50": self.pct(0.5),
            "latency_ms_p95": self.pct(0.95),
            "latency_ms_p99": self.pct(0.99),
            "n_single": self.single,
            "n_oos": self.oos,
            "n_turns": self.turns,
        }


def evaluate(items: list[dict], post: Callable[[str, dict], dict]) -> tuple[dict, list[tuple[str, str]]]:
    """Ask every item of a set through ``post`` (the HTTP API, or the engine in-process) and score the answers."""
    tally = _Tally()

    def timed(path, body):
        t = time.perf_counter()
        out = post(path, body)
        tally.latencies.append((time.perf_counter() - t) * 1000)
        return out

    for item in items:
        if item.get("out_of_scope"):
            _out_of_scope(item, timed, tally)
        elif "turns" in item:
            _conversation(item, timed, tally)
        else:
            _single(item, timed, tally)
    return tally.figures(), tally.fails


def _out_of_scope(item: dict, timed, tally: _Tally) -> None:
    tally.oos += 1
    r = timed("/api/chat", {"message": item["question"]})
    if not r.get("answered"):
        tally.oos_ok += 1
    else:
        tally.fails.append((item["id"], "answered out-of-scope: " + (r.get("answer") or "")[:120]))


def _conversation(item: dict, timed, tally: _Tally) -> None:
    tally.convs += 1
    sid, all_ok = None, True
    for i, turn in enumerate(item["turns"]):
        r = timed("/api/chat", {"message": turn["question"], **({"session_id": sid} if sid else {})})
        sid = r.get("session_id")
        tally.turns += 1
        tally.lengths.append(len(r.get("answer") or ""))
        why = score_turn(r, turn)
        if why:
            all_ok = False
            answer = (r.get("answer") or "")[:200]
            tally.fails.append((f"{item['id']}.{i}", "; ".join(why) + f" | q={r.get('query')!r} | " + answer))
        else:
            tally.turns_ok += 1
    tally.convs_ok += all_ok


def _single(item: dict, timed, tally: _Tally) -> None:
    tally.single += 1
    r = timed("/api/chat", {"message": item["question"]})
    tally.lengths.append(len(r.get("answer") or ""))
    why = score_turn(r, item)
    if why:
        tally.fails.append((item["id"], "; ".join(why) + " | " + (r.get("answer") or "")[:200]))
    else:
        tally.single_ok += 1
    s = timed("/api/search", {"query": item["question"], "k": 10})
    first = evidence_groups(item["evidence"])[0]
    ranks = [i + 1 for i, p in enumerate((s.get("results") or [])[:10]) if holds(p, first)]
    if ranks and ranks[0] <= 5:
        tally.hits5 += 1
    if ranks:
        tally.rr += 1.0 / ranks[0]


def load_set(path: Path) -> list[dict]:
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--url", help="score a running server over HTTP instead of in-process")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each failure")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.url:
        post = _Http(args.url)
    else:
        from .answering.engine import QAEngine
        from .settings import Settings

        engine = QAEngine(Settings())
        engine.start()
        post = InProcess(engine)
    figures, fails = evaluate(load_set(args.set), post)
    if args.verbose:
        for item_id, why in fails:
            print("FAIL", item_id, why, file=sys.stderr)
    print(json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 0
