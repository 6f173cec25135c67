"""``python -m server --workers 2``: two real worker processes on one port share the conversations (SQLite in
the index folder's machine), the reindex jobs and the index."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from .conftest import TOKEN, Server, get_json, post_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workers(real_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")
    server = Server(root, PQA_WORKERS="2")
    processes = set()
    for _ in range(200):  # each request on a new connection: the kernel hands them to either worker
        health = get_json(server.url + "/healthz")
        assert health["status"] == "ok"
        processes.add(health["process"])
        if len(processes) == 2:
            break
    assert len(processes) == 2, f"one process answered every request: {processes}"
    yield server
    server.stop()


def admin(url: str, method: str = "GET") -> dict:
    req = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_a_conversation_keeps_its_context_whichever_worker_answers(workers):
    first = post_json(workers.url + "/api/chat", {"message": "How much does the Northeastern program cost?"})
    session = first["session_id"]
    for n in range(2, 10):  # new connections: the turns land on both workers
        follow = post_json(workers.url + "/api/chat", {"message": "Is the GRE required?", "session_id": session})
        assert follow["turn"] == n and follow["notice"] is None
        assert "Northeastern" in follow["query"] and "not required" in follow["answer"]


def test_a_reindex_job_is_seen_through_every_worker(workers):
    job = admin(workers.url + "/api/reindex", "POST")
    for _ in range(12):
        assert admin(f"{workers.url}/api/reindex/{job['id']}")["id"] == job["id"]  # never a 404 from the other


def answers_counted(url: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("pqa_answers_total{"))


def test_metrics_count_the_answers_of_every_worker(workers):
    before = answers_counted(workers.url)
    for _ in range(20):  # new connections: both workers answer some
        post_json(workers.url + "/api/chat", {"message": "How much does the Northeastern program cost?"})
    for _ in range(6):  # whichever worker answers the scrape, it counts all twenty
        assert answers_counted(workers.url) - before >= 20
    with urllib.request.urlopen(workers.url + "/metrics", timeout=10) as r:
        assert 'pqa_replica_info{replica="' in r.read().decode()
