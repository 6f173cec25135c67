"""Two real server processes (replicas) on one PostgreSQL database and one shared index folder, as behind a
load balancer: a conversation moves between them, an upload through one is answered by the other, and the
database going away mid-conversation is survived."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request

import pytest

from tests.postgres import fresh_database

from .conftest import TOKEN, Server, get_json, post_json

pytestmark = pytest.mark.integration
DOC = (
    b"# Quillmoor Night Welding Certificate\n"
    b"The Quillmoor night welding certificate costs $4,321 in total and runs for ten weeks of evening classes.\n"
)


@pytest.fixture(scope="module")
def replicas(real_index, postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")
    url = fresh_database(postgres, "replicas")
    a = Server(root, PQA_DATABASE_URL=url)
    b = Server(root, PQA_DATABASE_URL=url)
    yield a, b
    a.stop()
    b.stop()


def chat(server: Server, message: str, session_id: str | None = None) -> dict:
    return post_json(
        server.url + "/api/chat", {"message": message} | ({"session_id": session_id} if session_id else {})
    )


def upload(server: Server, filename: str, data: bytes) -> dict:
    boundary = "pqaboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: text/markdown\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {TOKEN}"}
    req = urllib.request.Request(server.url + "/api/documents", data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def delete(server: Server, doc_id: str) -> dict:
    req = urllib.request.Request(
        f"{server.url}/api/documents/{doc_id}", method="DELETE", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def job_state(server: Server, job_id: str) -> str:
    req = urllib.request.Request(f"{server.url}/api/reindex/{job_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["state"]


def wait_for(condition, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {seconds} s")


def test_a_conversation_alternating_between_replicas_keeps_its_context(replicas):
    a, b = replicas
    first = chat(a, "How much does the Northeastern program cost?")
    assert first["answered"] and "$61,728" in first["answer"]
    follow = chat(b, "Is the GRE required?", first["session_id"])  # resolved against A's turn
    assert follow["session_id"] == first["session_id"] and follow["notice"] is None
    assert "Northeastern" in follow["query"] and "not required" in follow["answer"]
    third = chat(a, "When is the deadline for domestic students in the fall?", first["session_id"])
    assert third["turn"] == 3 and "August 1" in third["answer"]


def test_an_upload_through_one_replica_is_answered_by_the_other(replicas):
    a, b = replicas
    saved = upload(a, "quillmoor-night-welding.md", DOC)
    assert saved["saved"] == ["uploads/quillmoor-night-welding.md"]
    wait_for(lambda: job_state(a, saved["job"]["id"]) == "done", 60, "A's job done")
    published = time.time()
    answer = wait_for(
        lambda: (r := chat(b, "How much does the Quillmoor night welding certificate cost?"))["answered"] and r,
        10,
        "B answers from the upload",
    )
    assert "$4,321" in answer["answer"] and time.time() - published < 2.0
    job = delete(b, "uploads-quillmoor-night-welding")["job"]
    wait_for(lambda: job_state(b, job["id"]) == "done", 60, "B's job done")
    gone = wait_for(
        lambda: not (r := chat(a, "How much does the Quillmoor night welding certificate cost?"))["answered"] and r,
        2,
        "A no longer answers from the deleted page",
    )
    assert "$4,321" not in gone["answer"]


def test_the_database_stopped_mid_conversation_is_survived(replicas, postgres):
    a, b = replicas
    first = chat(a, "How much does the Northeastern program cost?")
    postgres.stop()
    try:
        during = chat(b, "Is the GRE required?", first["session_id"])  # answered, on its own, with a notice
        assert "history is unavailable" in (during["notice"] or "")
        assert get_json(a.url + "/healthz")["status"] == "ok"
    finally:
        postgres.start()
    again = wait_for(lambda: (r := chat(a, "How much does the Northeastern program cost?")) and r, 5, "chat")
    follow = wait_for(
        lambda: (r := chat(b, "Is the GRE required?", again["session_id"]))["notice"] is None and r,
        10,
        "history is kept again",
    )
    assert follow["session_id"] == again["session_id"] and "not required" in follow["answer"]


def big_page(title: str, paragraphs: int = 400) -> bytes:
    """A long page of my own (its embedding keeps a reindex busy for a while)."""
    lines = [f"# {title}"]
    for i in range(paragraphs):
        lines.append(
            f"Module {i} of the {title} covers topic number {i}, with {i % 7 + 2} labs and a {i % 5 + 1}-page report."
        )
    return "\n\n".join(lines).encode()


def post_reindex(server: Server) -> tuple[int, dict]:
    req = urllib.request.Request(
        server.url + "/api/reindex", data=b"", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_one_reindex_at_a_time_across_replicas(replicas):
    a, b = replicas
    job = upload(a, "quillmoor-long-syllabus.md", big_page("Quillmoor Long Syllabus"))["job"]
    status, body = post_reindex(b)  # while A's job embeds the new page
    assert status == 409 and job["id"] in body["detail"]
    wait_for(lambda: job_state(b, job["id"]) == "done", 120, "A's job seen done through B")
    assert post_reindex(b)[0] == 202  # free again


def test_a_replica_killed_during_a_reindex(real_index, postgres, tmp_path):
    import signal

    root = tmp_path / "killed"
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")
    url = fresh_database(postgres, "killed")
    a, b = Server(root, PQA_DATABASE_URL=url), Server(root, PQA_DATABASE_URL=url)
    try:
        job = upload(a, "quillmoor-killed-syllabus.md", big_page("Quillmoor Killed Syllabus"))["job"]
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        state = wait_for(lambda: (s := job_state(b, job["id"])) in ("failed", "done") and s, 30, "the job ended")
        assert state in ("failed", "done") and get_json(b.url + "/healthz")["status"] == "ok"
        page = root / "corpus" / "uploads" / "quillmoor-killed-syllabus.md"

        def agree() -> bool:
            docs = {d["doc_id"] for d in get_json(b.url + "/api/documents")["documents"]}
            return ("uploads-quillmoor-killed-syllabus" in docs) == page.is_file()

        wait_for(agree, 120, "corpus and index agree")
        assert not list((root / "corpus").rglob(".upload-*"))
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
        a.log.close()
        b.stop()
