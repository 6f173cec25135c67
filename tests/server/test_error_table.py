"""One error table: the answering library's errors map to status codes in one place, and every error body on
/v1, the gate's own included, is in OpenAI's shape."""

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app
from server.api.errors import error_body
from server.errors import Conflict, IndexUnavailable, InvalidRequest, JobRunning, NotFound, TooLarge, status_of

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidRequest("x"), 400),
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (JobRunning({"id": "j1"}), 409),
        (TooLarge("x"), 413),
        (IndexUnavailable("x"), 503),
    ],
)
def test_each_error_has_its_status(error, status):
    assert status_of(error) == status


def test_a_running_job_names_itself_and_how_to_poll_it():
    assert "poll GET /api/reindex/j1" in str(JobRunning({"id": "j1"}))


def test_the_body_shape_follows_the_surface():
    assert error_body("/api/chat", 404, "gone") == {"detail": "gone"}
    body = error_body("/v1/chat/completions", 429, "slow down")["error"]
    assert (
        body["type"] == "rate_limit_error" and body["code"] == "rate_limit_exceeded" and body["message"] == "slow down"
    )


@pytest.fixture(scope="module")
def client(server_settings, tmp_path_factory):
    settings = server_settings(tmp_path_factory.mktemp("errors"), max_body_kb=1, chat_rate_limit_per_minute=1)
    with TestClient(create_app(settings)) as c:
        yield c


def test_the_gate_answers_v1_in_openai_shape(client):
    big = {"model": "program-qa", "messages": [{"role": "user", "content": "x" * 4000}]}
    r = client.post("/v1/chat/completions", json=big)
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "invalid_request_error" and "KB limit" in r.json()["error"]["message"]
    r = client.post("/api/chat", json={"message": "x" * 4000})
    assert r.status_code == 413 and "KB limit" in r.json()["detail"]


def test_a_rate_limited_v1_request_is_in_openai_shape(client):
    ask = {"model": "program-qa", "messages": [{"role": "user", "content": "Is the GRE required at Northeastern?"}]}
    statuses = [client.post("/v1/chat/completions", json=ask) for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert limited[0].json()["error"]["code"] == "rate_limit_exceeded" and "Retry-After" in limited[0].headers
