"""Chat latency while the owners' coverage report is measured in the background, on a 40-document corpus.

    python bench/insights_bench.py [--documents 40] [--json-out FILE]

Builds an index of the seed documents plus real pages of the training pools (read from ../shared, never
copied into the project), starts the real server, and asks questions one after another (one client, a
connection per request) while the coverage of every document is being measured (status "measuring"), then
again once it is complete. Prints the time the coverage took and chat p50/p90 during and after it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.serve_bench import QUESTIONS, free_port, pct, post, wait_ready  # noqa: E402

POOLS = ROOT.parent / "shared" / "eval" / "train"
TOKEN = "bench-insights-admin-token"


def coverage_status(url: str) -> str:
    req = urllib.request.Request(url + "/api/insights/coverage", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["status"]


def latencies_while(url: str, keep_going, limit: int = 2000) -> list[float]:
    out = []
    while keep_going() and len(out) < limit:
        out.append(post(url, "/api/chat", {"message": QUESTIONS[len(out) % len(QUESTIONS)]}))
    return out


def watch_status(url: str, done: threading.Event) -> None:
    """Poll the coverage status every 0.5 s (in its own thread, so that the chat client never waits for it; a
    poll reads the whole report, which is work for the server too)."""
    while coverage_status(url) == "measuring":
        time.sleep(0.5)
    done.set()


def corpus(work: Path, documents: int) -> Path:
    folder = work / "corpus"
    shutil.copytree(ROOT / "corpus", folder)
    pages = sorted(p for p in POOLS.glob("*/corpus/*") if p.is_file())
    if len(pages) < documents - 2:
        raise SystemExit(f"need {documents - 2} pool pages under {POOLS}, found {len(pages)}")
    step = len(pages) / (documents - 2)
    for i in range(documents - 2):  # spread over the three pools
        page = pages[int(i * step)]
        shutil.copy(page, folder / f"{page.parent.parent.name}-{page.name}")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--json-out", type=Path, default=ROOT / "bench" / "results" / "insights.json")
    args = parser.parse_args()
    from indexer.build import build
    from indexer.settings import IndexSettings

    work = Path(tempfile.mkdtemp(prefix="pqa-insights-bench-"))
    settings = IndexSettings(corpus_dir=corpus(work, args.documents), index_dir=work / "index", _env_file=None)
    build(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PQA_CORPUS_DIR": str(settings.corpus_dir),
        "PQA_INDEX_DIR": str(settings.index_dir),
        "PQA_SESSION_DB": str(work / "sessions.sqlite"),
        "PQA_ADMIN_TOKEN": TOKEN,
        "PQA_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "PQA_SESSIONS_PER_MINUTE": "0",
    }
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        wait_ready(url, proc)
        for q in QUESTIONS:
            post(url, "/api/chat", {"message": q})  # warm
        while coverage_status(url) == "pending":  # the suggestions are checked first
            time.sleep(0.02)
        started, done = time.perf_counter(), threading.Event()
        threading.Thread(target=watch_status, args=(url, done), daemon=True).start()
        during = latencies_while(url, lambda: not done.is_set(), limit=1000)
        done.wait()  # the rest measured without load
        measured_s = time.perf_counter() - started
        after = latencies_while(url, lambda: True, limit=max(200, len(during)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    rows = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "documents": args.documents,
        "coverage_measured_s": round(measured_s, 2),  # under the one-client load, then alone
        "chat_during_n": len(during),
        "chat_during_ms_p50": round(statistics.median(during), 2) if during else None,
        "chat_during_ms_p90": pct(during, 0.9) if during else None,
        "chat_after_ms_p50": round(statistics.median(after), 2),
        "chat_after_ms_p90": pct(after, 0.9),
    }
    if during:
        rows["during_over_after_p50"] = round(rows["chat_during_ms_p50"] / rows["chat_after_ms_p50"], 2)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    for key, value in rows.items():
        print(f"{key:28} {value}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
