"""Damaged, missing or foreign indexes, a broken session store, and the request guards (fake embedder: fast)."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.build import build
from indexer.store import IndexPaths
from server.api.app import create_app
from server.settings import Settings


def make_settings(tmp_path, corpus, **extra) -> Settings:
    return Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        session_db=tmp_path / "s.sqlite",
        reload_interval_seconds=0,
        _env_file=None,
        **extra,
    )


@pytest.fixture
def built(tmp_path, corpus_copy, fake_embedder):
    settings = make_settings(tmp_path, corpus_copy)
    build(settings, embedder=fake_embedder)
    return settings


def gre_found(client) -> bool:
    results = client.post("/api/search", json={"query": "GRE is not required", "k": 3}).json()["results"]
    return any("GRE is not required" in r["text"] for r in results)


def test_missing_index_says_how_to_build(tmp_path, corpus_copy, fake_embedder):
    with TestClient(create_app(make_settings(tmp_path, corpus_copy), embedder=fake_embedder)) as client:
        health = client.get("/healthz")
        # Not ready (a load balancer skips it) but alive; the reason is given without the server's paths.
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert "python -m indexer" in health.json()["detail"]
        assert client.get("/livez").json() == {"status": "alive"}
        r = client.post("/api/chat", json={"message": "How much does it cost?"})
        assert r.status_code == 503 and r.json()["detail"] == "no index in index: build one with `python -m indexer`"
        page = client.get("/").text
        for text in (health.text, r.text, page):
            assert str(tmp_path) not in text


def test_a_lost_current_pointer_serves_the_newest_complete_version(built, fake_embedder):
    paths = IndexPaths(built.index_dir)
    newest = paths.current_name()
    (paths.versions / "v00000000T000000000000Z").mkdir()  # an older, incomplete version: not chosen
    paths.pointer.unlink()
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["index"]["version"] == newest
        assert "CURRENT pointer is missing" in health.json()["detail"]
        assert gre_found(client)


def test_truncated_index_file_is_named(built, fake_embedder):
    faiss_file = IndexPaths(built.index_dir).current_path() / "vectors.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        r = client.post("/api/chat", json={"message": "cost"})
        assert r.status_code == 503
        assert "vectors.faiss" in r.json()["detail"] and "python -m indexer --full" in r.json()["detail"]


def test_index_from_another_model_is_refused(built, fake_embedder):
    other = type(fake_embedder)()
    other.model_id = "another-model"
    with TestClient(create_app(built, embedder=other)) as client:
        detail = client.post("/api/search", json={"query": "cost"}).json()["detail"]
        assert "built with model 'fake-hash-64' but the server uses 'another-model'" in detail


def test_damaged_new_version_keeps_the_last_good_one(built, fake_embedder):
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        good = client.get("/healthz").json()["index"]["version"]
        (built.corpus_dir / "extra.md").write_text("# Extra\nAn extra page about welding certificates.\n")
        build(built, embedder=fake_embedder)
        new = IndexPaths(built.index_dir).current_path()
        (new / "chunks.jsonl").write_text("{broken")
        assert client.app.state.engine.reload() is False
        assert client.get("/healthz").json()["index"]["version"] == good
        assert gre_found(client)


def test_broken_session_store_still_answers(tmp_path, corpus_copy, fake_embedder, caplog):
    settings = make_settings(tmp_path, corpus_copy)
    build(settings, embedder=fake_embedder)
    settings.session_db.mkdir()  # a folder where the SQLite file should be: every store call fails
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        r = client.post("/api/chat", json={"message": "Is the GRE required for Northeastern's program?"})
        assert r.status_code == 200 and r.json()["session_id"]
        assert gre_found(client)
    assert "session store" in caplog.text


def test_body_size_limit(built, fake_embedder):
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        r = client.post(
            "/api/chat", content=b'{"message": "' + b"x" * 300_000 + b'"}', headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["detail"] == "request body over the 256 KB limit"


def test_rate_limit(tmp_path, corpus_copy, fake_embedder):
    settings = make_settings(tmp_path, corpus_copy, rate_limit_per_minute=3)
    build(settings, embedder=fake_embedder)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        codes = [client.get("/healthz").status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = client.get("/healthz")
        assert r.json()["detail"].startswith("too many requests") and int(r.headers["retry-after"]) >= 1


def test_metrics_and_access_log(built, fake_embedder, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="server.access")
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        client.post("/api/chat", json={"message": "GRE required?"})
        text = client.get("/metrics").text
        assert 'pqa_requests_total{method="POST",route="/api/chat",status="200"} 1.0' in text
        assert "pqa_request_seconds_bucket" in text and "pqa_index_chunks 41.0" in text
        # One batch: the question and its focus phrase ("GRE"), encoded together.
        assert "pqa_encoder_batches 1.0" in text and "pqa_encoder_queries 2.0" in text
        version = client.get("/healthz").json()["index"]["version"]
    assert any(
        f'"index": "{version}"' in r.getMessage() and '"path": "/api/chat"' in r.getMessage() for r in caplog.records
    )


def test_start_up_catches_up_with_the_corpus_and_cleans_leftovers(built, fake_embedder):
    # While the server was down: a document was added, and a killed upload left a partial file.
    (built.corpus_dir / "added-while-down.md").write_text(
        "# Night Classes\nThe night welding classes run on Tuesdays and Thursdays. " * 5
    )
    (built.corpus_dir / ".upload-k2j3h4").write_bytes(b"half an upload")
    import os
    import tempfile

    stale = Path(tempfile.mkdtemp(prefix="pqa-upload-"))  # an upload check killed two hours ago
    (stale / "big.pdf").write_bytes(b"x" * 1000)
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = Path(tempfile.mkdtemp(prefix="pqa-upload-"))  # another server's check, running now
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        client.app.state.jobs.wait(60)
        docs = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
        deadline = time.time() + 10
        while "added-while-down" not in docs and time.time() < deadline:
            time.sleep(0.1)
            docs = {d["doc_id"] for d in client.get("/api/documents").json()["documents"]}
        assert "added-while-down" in docs
        assert not (built.corpus_dir / ".upload-k2j3h4").exists()
        assert not stale.exists() and fresh.exists()
    fresh.rmdir()


def test_an_unchanged_corpus_starts_no_job(built, fake_embedder):
    version = IndexPaths(built.index_dir).current_name()
    with TestClient(create_app(built, embedder=fake_embedder)) as client:
        assert not client.app.state.jobs.running()
        assert client.get("/healthz").json()["index"]["version"] == version
