"""A hostile document on a real server: a long course list without sentence punctuation and a catalog of
ordinary sentences, indexed while the server runs. The server keeps answering while it checks its
suggestions over them, and stops promptly on SIGTERM."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest

from .conftest import Server, get_json, post_json

pytestmark = pytest.mark.integration


def course_list() -> str:
    """About 60 KB of course lines: no sentence punctuation, no dates (our own words)."""
    lines = [f"HIST {300 + i} Regional history seminar {i} readings archives fieldwork and methods" for i in range(800)]
    return "# Course catalog\n" + "\n".join(lines) + "\n"


def catalog() -> str:
    """About 200 KB of ordinary sentences that mention tuition and deadlines without a figure."""
    sentence = "Students in the program {i} discuss tuition policy and deadline planning with their advisors. "
    return "# Catalog of policies\n" + "".join(sentence.format(i=i) for i in range(2000)) + "\n"


@pytest.fixture
def hostile(real_index, tmp_path):
    shutil.copytree(real_index / "corpus", tmp_path / "corpus")
    shutil.copytree(real_index / "index", tmp_path / "index")  # shares the embedding cache
    running = Server(tmp_path)
    yield running
    if running.proc.poll() is None:
        running.stop()


def test_a_hostile_document_never_stalls_answers_and_sigterm_stops_the_server(hostile):
    before = get_json(hostile.url + "/healthz")["index"]["version"]
    (hostile.root / "corpus" / "course-list.md").write_text(course_list())
    (hostile.root / "corpus" / "policies.md").write_text(catalog())
    result = hostile.index()
    assert result.returncode == 0, result.stderr
    deadline = time.time() + 60
    while time.time() < deadline and get_json(hostile.url + "/healthz")["index"]["version"] == before:
        time.sleep(0.1)
    # The new version is in service and its suggestions are being checked in the background: answers go on.
    slowest = 0.0
    for _ in range(20):
        started = time.perf_counter()
        assert get_json(hostile.url + "/livez")["status"] == "alive"
        body = post_json(hostile.url + "/api/chat", {"message": "How much does the Northeastern program cost?"})
        slowest = max(slowest, time.perf_counter() - started)
        assert body["answered"] and "61,728" in body["answer"]
    assert slowest < 2.0, f"an answer took {slowest:.1f} s while the documents were checked"
    hostile.proc.send_signal(signal.SIGTERM)
    try:
        hostile.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        hostile.proc.kill()
        pytest.fail("SIGTERM did not stop the server within 10 s")
    hostile.log.close()
