"""Limits and errors against a real uvicorn server: one source for limits, bodies bounded while read, clear errors."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import httpx
import pytest

from .conftest import Server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def limited(schools_root):
    running = Server(schools_root, PQA_MAX_MESSAGE_CHARS="10000", PQA_SEARCH_MAX_K="7", PQA_MAX_BODY_KB="64")
    yield running
    running.stop()


def read_reply(sock) -> str:
    """One whole HTTP response from a raw socket (its head and a Content-Length body may come apart)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length"), 0
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def test_limits_come_from_the_settings(limited):
    long = "What is the minimum GPA at Harbor Tech? " + "Please answer. " * 630  # ~9,600 characters
    r = httpx.post(limited.url + "/api/chat", json={"message": long}, timeout=60)
    assert r.status_code == 200, r.text  # the request models no longer cap it at 8,000
    r = httpx.post(limited.url + "/api/chat", json={"message": "x" * 10_001}, timeout=30)
    assert r.status_code == 400 and r.json()["detail"] == "message is 10001 characters; the limit is 10000"
    r = httpx.post(limited.url + "/api/search", json={"query": "GPA", "k": 8}, timeout=30)
    assert r.status_code == 400 and r.json()["detail"] == "k must be between 1 and 7"
    assert (
        len(httpx.post(limited.url + "/api/search", json={"query": "GPA", "k": 7}, timeout=30).json()["results"]) == 7
    )


def test_a_chunked_body_is_cut_at_the_limit_without_filling_memory(limited):
    before = rss_mb(limited.proc.pid)
    sent = 0

    def body():
        nonlocal sent
        block = b'{"message": "' + b"a" * (1 << 20)
        yield block
        sent += len(block)
        for _ in range(199):  # 200 MB if it were all read
            yield b"a" * (1 << 20)
            sent += 1 << 20

    try:
        r = httpx.post(
            limited.url + "/api/chat", content=body(), headers={"Content-Type": "application/json"}, timeout=60
        )
        assert r.status_code == 413 and "64 KB limit" in r.json()["detail"]
    except httpx.RemoteProtocolError:
        pass  # the server may close the connection while the client is still sending: also a refusal
    assert sent > 64 * 1024  # the client did send more than the limit
    assert rss_mb(limited.proc.pid) - before < 50  # but the server kept no more than the limit of it
    assert httpx.get(limited.url + "/healthz", timeout=10).status_code == 200  # and the server is fine


def test_strings_that_are_not_unicode_get_422_not_500(limited):
    for path, body in (
        ("/api/chat", '{"message": "GPA?", "doc_ids": ["\\ud800"]}'),
        ("/api/search", '{"query": "GPA", "doc_ids": ["\\udfff"]}'),
        ("/api/chat/stream", '{"message": "\\ud800 GPA?"}'),
    ):
        r = httpx.post(limited.url + path, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 422, (path, r.text)
        assert "doc_ids.0" in r.json()["detail"] or "message" in r.json()["detail"]


def test_malformed_json_is_named_as_such(limited):
    r = httpx.post(limited.url + "/api/chat", content='{"message": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "the body is not valid JSON"


def test_streamed_answers_are_counted(limited):
    def answered() -> float:
        metrics = httpx.get(limited.url + "/metrics", timeout=10).text
        line = next((x for x in metrics.splitlines() if x.startswith('pqa_answers_total{answered="true"}')), None)
        return float(line.split()[-1]) if line else 0.0

    before = answered()
    with httpx.stream(
        "POST", limited.url + "/api/chat/stream", json={"message": "What is the minimum GPA at Harbor Tech?"}
    ) as r:
        assert r.status_code == 200 and "event: final" in r.read().decode()
    assert answered() == before + 1


@pytest.fixture(scope="module")
def guarded(schools_root):
    running = Server(schools_root, PQA_RATE_LIMIT_PER_MINUTE="5")
    yield running
    running.stop()


def test_forwarded_headers_from_strangers_do_not_dodge_the_rate_limit(guarded):
    statuses = []
    for i in range(8):
        forged = {"X-Forwarded-For": f"203.0.113.{i}"}  # a new "client" each time
        statuses.append(httpx.get(guarded.url + "/api/documents", headers=forged, timeout=10).status_code)
    # Five a minute from this address (the start-up health checks used some): rotating the header changes nothing.
    assert statuses.count(200) <= 5 and statuses[-3:] == [429] * 3
    # Nor do they forge the access log, which is written by a listener thread (the event loop only enqueues).
    deadline = time.time() + 5
    while (log := (guarded.root / "server.log").read_text()).count('"path": "/api/documents"') < 8:
        assert time.time() < deadline, log[-2000:]
        time.sleep(0.05)
    assert "203.0.113" not in log and log.count('"client": "127.0.0.1"') >= 8


def test_an_upload_without_the_token_is_refused_before_its_body_is_read(guarded):
    import socket

    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        # Announce 1.5 GB of multipart, send 1 MB of it, and wait: the answer must come without the rest.
        head = (
            "POST /api/documents HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode() + b"100000\r\n" + b"a" * 0x100000 + b"\r\n")
        reply = read_reply(sock)
    assert reply.startswith("HTTP/1.1 401") and "missing or wrong admin token" in reply


@pytest.fixture(scope="module")
def impatient(schools_root):
    running = Server(schools_root, PQA_HEADER_TIMEOUT_SECONDS="1", PQA_BODY_TIMEOUT_SECONDS="1.5")
    yield running
    running.stop()


def test_slow_headers_and_slow_bodies_do_not_hold_a_connection(impatient):
    import socket
    import time

    # Headers a few bytes at a time: the connection is closed at the header deadline, not held.
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as sock:
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
            except OSError:
                closed = True
                break
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        assert closed and time.monotonic() - started < 4
    # A body that trickles in: 408 at the body deadline.
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
            b'{"message": "'
        )
        reply = read_reply(sock)
    assert reply.startswith("HTTP/1.1 408") and "not received within 1.5 s" in reply
    # Ordinary requests are unaffected.
    assert (
        httpx.post(impatient.url + "/api/chat", json={"message": "GPA at Harbor Tech?"}, timeout=30).status_code == 200
    )


def test_a_lone_surrogate_on_v1_is_refused_and_never_breaks_other_users_answers(limited):
    bad = '{"model": "program-qa", "messages": [{"role": "user", "content": "cost \\ud800 ?"}]}'
    r = httpx.post(limited.url + "/v1/chat/completions", content=bad, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid Unicode" in r.json()["error"]["message"]
    assert r.json()["error"]["type"] == "invalid_request_error"

    def good(_):
        return httpx.post(
            limited.url + "/api/chat", json={"message": "Is the GRE required at Northeastern?"}, timeout=60
        )

    def hostile(_):
        return httpx.post(
            limited.url + "/v1/chat/completions", content=bad, headers={"Content-Type": "application/json"}, timeout=60
        )

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        goods = [pool.submit(good, i) for i in range(24)]
        bads = [pool.submit(hostile, i) for i in range(24)]
        good_replies = [f.result() for f in goods]
        bad_replies = [f.result() for f in bads]
    assert all(r.status_code == 422 for r in bad_replies)
    assert all(r.status_code == 200 and r.json()["answered"] for r in good_replies)
    assert all("GRE" in r.json()["answer"] for r in good_replies)


@pytest.fixture(scope="module")
def tight(schools_root):
    running = Server(schools_root, PQA_MAX_HEADER_KB="8", PQA_MAX_HEADERS="20", PQA_MAX_CONNECTIONS_PER_CLIENT="5")
    yield running
    running.stop()


def test_headers_too_big_or_too_many_get_431_and_the_server_goes_on(tight):
    import socket

    for head in (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n",  # one 2 MB header
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(30)) + b"\r\n",
    ):
        with socket.create_connection(("127.0.0.1", tight.port), timeout=10) as sock:
            with contextlib.suppress(OSError):  # closed while sending the rest: the reply is already there
                sock.sendall(head)
            reply = read_reply(sock)
        assert reply.startswith("HTTP/1.1 431") and "request headers too large" in reply
    ok = httpx.get(tight.url + "/healthz", headers={f"X-H{i}": "v" for i in range(10)}, timeout=10)
    assert ok.status_code == 200  # ordinary headers pass


def test_one_client_cannot_hold_every_connection(tight):
    import socket
    import time

    held = [socket.create_connection(("127.0.0.1", tight.port), timeout=10) for _ in range(5)]
    try:
        time.sleep(0.3)  # the server has accepted all five
        with socket.create_connection(("127.0.0.1", tight.port), timeout=10) as extra:
            try:  # the sixth is closed at once, unanswered (an empty read, or a reset for what was sent)
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = extra.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b""
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(tight.url + "/healthz", timeout=10).status_code == 200  # room again once they are gone
