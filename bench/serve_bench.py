"""Serving speed on the real corpus: starts the real server (uvicorn, loopback) and prints a table.

    python bench/serve_bench.py [--requests N] [--seconds S] [--json-out FILE]

Measures, in one run: raw encode of one query and of 32 queries (the limit) with both encoders
(PyTorch sentence-transformers and ONNX Runtime on every core, and ONNX on one core as serving uses it
under load), warm ``/api/chat`` and ``/api/search`` latency for one client (urllib, a connection per
request) and the ratio to the raw encode, throughput and p99 with 1/4/16/64 concurrent clients (and 16/64
against ``--workers 2``, with every process's memory), a
no-change reindex, and server cold start to first answer.

The concurrent clients are wrk's (C, keep-alive connections, ``--seconds`` per run) when ``wrk`` is on the
PATH (``make bench`` installs it), else Python threads with urllib (``--requests`` per run), whose own
CPU use on the same two cores lowers the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "How much does the Northeastern program cost?",
    "What do AI graduates earn in manufacturing?",
    "Is the GRE required for Northeastern's manufacturing master's?",
    "How long does an AI master's degree take?",
    "Which companies does Northeastern work with?",
    "What jobs can I get with an AI master's in manufacturing?",
    "What is the spring deadline for domestic applicants?",
    "What skills do manufacturing employers expect?",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 2)


def post(url: str, path: str, body: dict) -> float:
    req = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    return (time.perf_counter() - started) * 1000


WRK_SCRIPT = """
local questions = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "/api/chat", nil, questions[(i %% #questions) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%f %%f %%d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def wrk_load(wrk: str, url: str, clients: int, seconds: int, work: Path) -> tuple[float, float, int]:
    """wrk (C, keep-alive connections) posting the questions in turn: (requests/s, p99 ms, errors)."""
    bodies = ", ".join("[[" + json.dumps({"message": q}) + "]]" for q in QUESTIONS)
    script = work / "chat.lua"
    script.write_text(WRK_SCRIPT % bodies)
    out = subprocess.run(
        [wrk, "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps, p99, errors = next(line.split()[1:] for line in out.splitlines() if line.startswith("RESULT"))
    return round(float(rps), 1), round(float(p99), 2), int(errors)


def thread_load(url: str, clients: int, requests: int) -> tuple[float, float | None, int]:
    """Python threads posting with urllib, a new connection per request (when wrk is not installed)."""
    errors = 0
    latencies: list[float] = []

    def one(i: int) -> None:
        nonlocal errors
        try:
            latencies.append(post(url, "/api/chat", {"message": QUESTIONS[i % len(QUESTIONS)]}))
        except OSError:
            errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    return round(requests / elapsed, 1), (pct(latencies, 0.99) if latencies else None), errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if json.loads(r.read())["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not become ready")


def start_server(port: int, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def load(wrk: str | None, url: str, clients: int, args, work: Path) -> tuple[float, float | None, int]:
    """(requests/s, p99 ms, errors) of ``clients`` concurrent chat clients: wrk's, else Python threads."""
    if wrk:
        return wrk_load(wrk, url, clients, args.seconds, work)
    return thread_load(url, clients, args.requests)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024, 1)


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (uvicorn's worker processes; the supervisor's resource tracker too)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def workers_load(env: dict, wrk: str | None, args, work: Path, encode_ceiling: float) -> dict:
    """16 and 64 clients against the server with 2 worker processes (the single process above is the base),
    and the memory of every process."""
    rows: dict[str, object] = {}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port, env, "--workers", "2")
    try:
        wait_ready(url, proc)
        seen = {json.loads(urllib.request.urlopen(url + "/healthz", timeout=10).read())["process"] for _ in range(100)}
        rows["workers2_processes_answering"] = len(seen)
        for q in QUESTIONS * 4:
            post(url, "/api/chat", {"message": q})
        for clients in (16, 64):
            rps, p99, errors = load(wrk, url, clients, args, work)
            rows[f"workers2_c{clients}_rps"], rows[f"workers2_c{clients}_p99_ms"] = rps, p99
            rows[f"workers2_c{clients}_errors"] = errors
            rows[f"workers2_c{clients}_rps_over_onnx_batch"] = round(rps / encode_ceiling, 2)
        pids = [proc.pid, *children(proc.pid)]
        rows["workers2_rss_mb_each"] = [rss_mb(p) for p in pids]
        rows["workers2_rss_mb_total"] = round(sum(rows["workers2_rss_mb_each"]), 1)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk load run")
    parser.add_argument("--json-out", type=Path, default=ROOT / "bench" / "results" / "serve.json")
    args = parser.parse_args()
    from indexer.build import build
    from indexer.encoders import make_embedder
    from indexer.settings import IndexSettings

    work = Path(tempfile.mkdtemp(prefix="pqa-bench-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    settings = IndexSettings(corpus_dir=work / "corpus", index_dir=work / "index", _env_file=None)
    rows: dict[str, object] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}

    cold = build(settings)
    rows["index_cold_build_s"] = round(cold.seconds, 2)
    rows["index_model_load_s"] = round(cold.model_load_seconds, 2)
    rows["index_embed_s"] = round(cold.embed_seconds, 2)
    rows["index_texts_embedded"] = cold.embedded
    rows["index_texts_per_s"] = round(cold.embedded / cold.embed_seconds, 1) if cold.embed_seconds else None
    nochange = [build(settings).seconds * 1000 for _ in range(5)]
    rows["index_nochange_ms_p50"] = round(statistics.median(nochange), 1)
    page = work / "corpus" / "northeastern-ms-advanced-intelligent-manufacturing.txt"
    page.write_text(page.read_text().replace("Campus Location Boston", "Campus Location Boston, MA"))
    one = build(settings)
    rows["index_one_doc_change_s"] = round(one.seconds, 2)
    rows["index_one_doc_change_embedded"] = one.embedded

    from indexer.store import load_current

    chunk_texts = [c.embed_text() for c in load_current(settings.index_dir).chunks]
    for encoder in ("torch", "onnx"):  # side by side, same run: every ratio below uses these
        embedder = make_embedder(settings.model_copy(update={"encoder": encoder}))
        embedder.load()
        assert embedder.backend == encoder, f"{encoder} encoder unavailable"
        for q in QUESTIONS:
            embedder.embed([q])
        single = []
        for i in range(args.requests):
            started = time.perf_counter()
            embedder.embed([QUESTIONS[i % len(QUESTIONS)]])
            single.append((time.perf_counter() - started) * 1000)
        batch = []
        for _ in range(40):  # the denominator of every ratio below: enough runs for a steady median
            started = time.perf_counter()
            embedder.embed((QUESTIONS * 4)[:32])
            batch.append((time.perf_counter() - started) * 1000)
        rows[f"encode_{encoder}_1_ms_p50"] = round(statistics.median(single), 2)
        rows[f"encode_{encoder}_32_ms_p50"] = round(statistics.median(batch), 2)
        rows[f"encode_{encoder}_queries_per_s_batched"] = round(32 / (statistics.median(batch) / 1000), 1)
        if encoder == "onnx" and embedder.open_single_thread():  # what serving uses while it composes answers
            one_core = []
            for _ in range(20):
                started = time.perf_counter()
                embedder.embed((QUESTIONS * 4)[:32], single_thread=True)
                one_core.append((time.perf_counter() - started) * 1000)
            rows["encode_onnx_one_core_queries_per_s_batched"] = round(32 / (statistics.median(one_core) / 1000), 1)
        if encoder == "onnx":  # a lone query through the micro-batcher is encoded at once, never waits its window
            from server.answering.batching import MicroBatcher

            batcher = MicroBatcher(embedder, window_ms=50)
            batcher.start()
            lone = []
            for i in range(args.requests):
                started = time.perf_counter()
                batcher.embed([QUESTIONS[i % len(QUESTIONS)]])
                lone.append((time.perf_counter() - started) * 1000)
            batcher.close()
            rows["micro_batcher_lone_query_ms_p50"] = round(statistics.median(lone), 2)
            rows["micro_batcher_lone_query_ms_max"] = round(max(lone), 2)  # under its 50 ms window
        started = time.perf_counter()
        embedder.embed(chunk_texts)  # what indexing does
        rows[f"encode_{encoder}_chunks_per_s"] = round(len(chunk_texts) / (time.perf_counter() - started), 1)
        del embedder

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PQA_INDEX_DIR": str(work / "index"),
        "PQA_CORPUS_DIR": str(work / "corpus"),
        "PQA_SESSION_DB": str(work / "sessions.sqlite"),
        # A load test from one address: the per-client limits (on by default) are raised off.
        "PQA_CHAT_RATE_LIMIT_PER_MINUTE": "0",
        "PQA_SESSIONS_PER_MINUTE": "0",
    }
    started = time.perf_counter()
    proc = start_server(port, env)
    try:
        wait_ready(url, proc)
        post(url, "/api/chat", {"message": QUESTIONS[0]})
        rows["server_cold_start_to_first_answer_s"] = round(time.perf_counter() - started, 2)
        for q in QUESTIONS:
            post(url, "/api/chat", {"message": q})
        chat = [post(url, "/api/chat", {"message": QUESTIONS[i % len(QUESTIONS)]}) for i in range(args.requests)]
        search = [
            post(url, "/api/search", {"query": QUESTIONS[i % len(QUESTIONS)], "k": 5}) for i in range(args.requests)
        ]
        for name, values in (("chat", chat), ("search", search)):
            rows[f"{name}_ms_p50"] = pct(values, 0.5)
            rows[f"{name}_ms_p95"] = pct(values, 0.95)
            rows[f"{name}_ms_p99"] = pct(values, 0.99)
            # Against the PyTorch single-query encode (the target: a whole answer under it) and ONNX's.
            rows[f"{name}_p50_over_torch_encode"] = round(pct(values, 0.5) / rows["encode_torch_1_ms_p50"], 2)
            rows[f"{name}_p50_over_onnx_encode"] = round(pct(values, 0.5) / rows["encode_onnx_1_ms_p50"], 2)
        wrk = shutil.which("wrk")
        rows["load_generator"] = (
            "wrk (keep-alive connections)" if wrk else "Python threads (urllib, a connection per request)"
        )
        for clients in (1, 4, 16, 64):
            rps, p99, errors = load(wrk, url, clients, args, work)
            rows[f"c{clients}_rps"] = rps
            rows[f"c{clients}_p99_ms"] = p99
            rows[f"c{clients}_errors"] = errors
            # How close serving comes to its limit: the encoder's batched throughput on every core.
            rows[f"c{clients}_rps_over_onnx_batch"] = round(rps / rows["encode_onnx_queries_per_s_batched"], 2)
        rows["server_rss_mb"] = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    try:
        rows |= workers_load(env, wrk, args, work, rows["encode_onnx_queries_per_s_batched"])
        rows["workers2_over_1_at_64"] = round(rows["workers2_c64_rps"] / rows["c64_rps"], 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(rows, indent=1))
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
