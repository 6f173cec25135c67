"""A real uvicorn server on loopback, over a temporary copy of the corpus and index."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-admin-token-for-tests"
XSS_DOC = """# Zorblax Security Notes
The Zorblax program motto is <script>window.__xss = 1</script> written in plain text.
Its logo tag reads <img src=x onerror="window.__xss = 2"> and must never run.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def post_json(url: str, body: dict, timeout: float = 30) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Server:
    def __init__(self, root: Path, **env: str):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PQA_CORPUS_DIR": str(root / "corpus"),
            "PQA_INDEX_DIR": str(root / "index"),
            "PQA_SESSION_DB": str(root / "sessions.sqlite"),
            "PQA_ADMIN_TOKEN": TOKEN,
            "PQA_RELOAD_INTERVAL_SECONDS": "0.2",
            # The load tests send many answers from one address: the per-client limits are tested apart.
            "PQA_CHAT_RATE_LIMIT_PER_MINUTE": "0",
            "PQA_SESSIONS_PER_MINUTE": "0",
            **env,
        }
        self.log = open(root / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + (root / "server.log").read_text()[-2000:])
            try:
                if get_json(self.url + "/healthz")["status"] == "ok":  # /healthz needs no API key
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def index(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "indexer", "-q"], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def server(real_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")  # shares the embedding cache
    (root / "corpus" / "zorblax-security-notes.md").write_text(XSS_DOC)
    srv = Server.__new__(Server)
    srv.root = root
    srv.env = {**os.environ, "PQA_CORPUS_DIR": str(root / "corpus"), "PQA_INDEX_DIR": str(root / "index")}
    result = Server.index(srv)
    assert result.returncode == 0, result.stderr
    running = Server(root)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def schools_root(real_index, tmp_path_factory) -> Path:
    """The seed corpus plus three pages of invented schools (tests/server/answering/pages), indexed."""
    root = tmp_path_factory.mktemp("schools")
    shutil.copytree(real_index / "corpus", root / "corpus")
    shutil.copytree(real_index / "index", root / "index")  # shares the embedding cache
    for page_file in (ROOT / "tests" / "server" / "answering" / "pages").iterdir():
        shutil.copy(page_file, root / "corpus" / page_file.name)
    builder = Server.__new__(Server)
    builder.env = {**os.environ, "PQA_CORPUS_DIR": str(root / "corpus"), "PQA_INDEX_DIR": str(root / "index")}
    result = Server.index(builder)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def schools_server(schools_root):
    """A server over the schools corpus."""
    running = Server(schools_root)
    yield running
    running.stop()
