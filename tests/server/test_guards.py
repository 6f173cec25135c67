"""Limits against hostile clients, all from the settings: chat and new-conversation rates, admin guessing,
weak admin tokens, /v1 request size, bodies that are not JSON (fake embedder: fast)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from indexer.build import build
from server.api.app import create_app
from server.settings import Settings

STRONG = "a-long-enough-admin-token-for-tests"


def make(tmp_path, corpus, fake_embedder, **extra) -> Settings:
    settings = Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        session_db=tmp_path / "s.sqlite",
        reload_interval_seconds=0,
        _env_file=None,
        **extra,
    )
    build(settings, embedder=fake_embedder)
    return settings


@pytest.mark.parametrize("token", ["change-me", "CHANGE-ME", "short-token", "password"])
def test_a_weak_admin_token_is_refused_at_start_up_with_how_to_make_one(token):
    with pytest.raises(ValidationError, match=r"PQA_ADMIN_TOKEN is too weak.*secrets.token_urlsafe"):
        Settings(admin_token=token, _env_file=None)
    assert Settings(admin_token=STRONG, _env_file=None).admin_token == STRONG


def test_wrong_admin_tokens_are_throttled_per_client(tmp_path, corpus_copy, fake_embedder):
    settings = make(tmp_path, corpus_copy, fake_embedder, admin_token=STRONG, admin_failures_per_minute=3)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        wrong = {"Authorization": "Bearer not-the-token-at-all-no"}
        codes = [client.post("/api/reindex", headers=wrong).status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
        r = client.post("/api/reindex", headers=wrong)
        assert r.json()["detail"] == "too many wrong admin tokens; try again in a minute"
        assert client.get("/api/documents").status_code == 200  # the documents list stays public


def test_new_conversations_are_limited_but_continuing_one_is_not(tmp_path, corpus_copy, fake_embedder):
    settings = make(tmp_path, corpus_copy, fake_embedder, sessions_per_minute=2)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        first = client.post("/api/chat", json={"message": "Is the GRE required?"})
        assert client.post("/api/chat", json={"message": "What is the tuition?"}).status_code == 200
        third = client.post("/api/chat", json={"message": "How long is it?", "session_id": "made-up"})
        assert third.status_code == 429 and third.json()["detail"].startswith("too many new conversations")
        session = first.json()["session_id"]
        for _ in range(3):
            assert (
                client.post("/api/chat", json={"message": "And the deadline?", "session_id": session}).status_code
                == 200
            )


def test_chat_has_its_own_rate_limit_that_other_routes_do_not_meet(tmp_path, corpus_copy, fake_embedder):
    settings = make(tmp_path, corpus_copy, fake_embedder, chat_rate_limit_per_minute=2, sessions_per_minute=0)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        codes = [client.post("/api/chat", json={"message": "Is the GRE required?"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        body = {"model": "program-qa", "messages": [{"role": "user", "content": "GRE?"}]}
        r = client.post("/v1/chat/completions", json=body)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert all(client.get("/healthz").status_code == 200 for _ in range(5))


def test_v1_requests_have_a_bounded_size(tmp_path, corpus_copy, fake_embedder):
    settings = make(tmp_path, corpus_copy, fake_embedder, max_request_messages=4, max_request_chars=300)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        many = [{"role": "user", "content": "GRE?"}] * 5
        r = client.post("/v1/chat/completions", json={"model": "program-qa", "messages": many})
        assert r.status_code == 400 and r.json()["error"]["message"] == "5 messages in one request; the limit is 4"
        long = [{"role": "user", "content": "Is the GRE required? " * 10}] * 2
        r = client.post("/v1/chat/completions", json={"model": "program-qa", "messages": long})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == "the messages to replay hold 418 characters; the limit is 300"


@pytest.mark.parametrize(
    "body", [b'{"message": "\xff\xfe GRE?"}', b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"]
)
def test_a_body_that_is_not_utf8_or_nests_too_deeply_is_not_valid_json(tmp_path, corpus_copy, fake_embedder, body):
    settings = make(tmp_path, corpus_copy, fake_embedder, max_body_kb=1024)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        r = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"] == "the body is not valid JSON"


def test_the_api_page_offers_authorize_for_the_admin_token_and_the_api_keys(tmp_path, corpus_copy, fake_embedder):
    settings = make(tmp_path, corpus_copy, fake_embedder)
    with TestClient(create_app(settings, embedder=fake_embedder)) as client:
        spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["AdminToken"]["scheme"] == "bearer" and schemes["ApiKey"]["scheme"] == "bearer"
    assert {"AdminToken": []} in spec["paths"]["/api/reindex"]["post"]["security"]
    assert {"ApiKey": []} in spec["paths"]["/api/chat"]["post"]["security"]
