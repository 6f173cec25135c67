"""A reindex swaps index versions under a steady stream of chat requests without a single failure."""

import threading
import time
import urllib.error

import pytest

from .conftest import get_json, post_json

pytestmark = pytest.mark.integration
QUESTIONS = [
    "How much does the Northeastern program cost?",
    "What do AI graduates earn in manufacturing?",
    "Is the GRE required at Northeastern?",
]


def test_zero_failed_requests_during_swap(server):
    before = get_json(server.url + "/healthz")["index"]["version"]
    stop = threading.Event()
    ok, failures = [], []

    def client(n: int) -> None:
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                body = post_json(server.url + "/api/chat", {"message": QUESTIONS[(n + i) % len(QUESTIONS)]})
                (ok if body["answered"] and body["citations"] else failures).append(body.get("answer", "")[:80])
            except (urllib.error.URLError, OSError, KeyError) as exc:
                failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    (server.root / "corpus" / "welding-certificate.md").write_text(
        "# Welding Certificate\nThe Welding Certificate costs $4,321 and lasts one semester.\n"
    )
    result = server.index()
    assert result.returncode == 0, result.stderr
    deadline = time.time() + 30
    while time.time() < deadline and get_json(server.url + "/healthz")["index"]["version"] == before:
        time.sleep(0.1)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    after = get_json(server.url + "/healthz")["index"]["version"]
    assert after != before, "the server did not pick up the new version"
    assert failures == [] and len(ok) > 50
    body = post_json(server.url + "/api/chat", {"message": "How much does the Welding Certificate cost?"})
    assert "$4,321" in body["answer"]


@pytest.mark.parametrize("delay", [0.5, 2.5, 5.0, 7.5])
def test_build_killed_at_random_points_server_keeps_answering(server, delay):
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer", "--full", "-q"],
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    health = get_json(server.url + "/healthz")
    assert health["status"] == "ok"
    # Whatever the kill interrupted, the version in service is whole: the old one or a complete new one.
    body = post_json(server.url + "/api/chat", {"message": "How much does the Northeastern program cost?"})
    assert "$61,728" in body["answer"]
    from indexer.store import load_current

    assert len(load_current(server.root / "index").chunks) == health["index"]["chunks"]


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_a_server_killed_during_an_upload_comes_back_consistent(real_index, tmp_path, delay):
    """SIGKILL right after an upload: on restart the corpus and the index in service agree."""
    import json
    import shutil
    import signal
    import urllib.request

    from .conftest import TOKEN, Server

    root = tmp_path / "kill"
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")
    first = Server(root)
    doc = b"# Night Welding\nThe night welding certificate costs $4,321 and runs for ten weeks.\n" * 3
    boundary = "pqaboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="night-welding.md"\r\n'
            "Content-Type: text/markdown\r\n\r\n"
        ).encode()
        + doc
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        first.url + "/api/documents",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 202 and json.loads(r.read())["saved"] == ["uploads/night-welding.md"]
        time.sleep(delay)
    finally:  # killed whatever happened above: no server outlives the test
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        first.log.close()

    second = Server(root)
    try:
        deadline = time.time() + 60
        while True:
            in_corpus = (root / "corpus" / "uploads" / "night-welding.md").is_file()
            docs = {d["doc_id"] for d in get_json(second.url + "/api/documents")["documents"]}
            if ("uploads-night-welding" in docs) == in_corpus or time.time() > deadline:
                break
            time.sleep(0.2)
        assert ("uploads-night-welding" in docs) == in_corpus  # never a file the index does not know
        assert not list((root / "corpus").rglob(".upload-*"))  # no partial files left behind
    finally:
        second.stop()
