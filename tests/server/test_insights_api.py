"""Feedback and the owners' insights through the HTTP API, on the real model and the real seed index."""

import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from server.answering.engine import QAEngine
from server.answering.facts import FactCatalogue
from server.api.app import create_app

pytestmark = pytest.mark.integration
TOKEN = "insights-test-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NORTHEASTERN = "northeastern-ms-advanced-intelligent-manufacturing"


@pytest.fixture(scope="module")
def client(server_settings, tmp_path_factory):
    settings = server_settings(tmp_path_factory.mktemp("insights"), admin_token=TOKEN)
    with TestClient(create_app(settings)) as c:
        yield c


def chat(client, message, session_id=None):
    body = {"message": message} | ({"session_id": session_id} if session_id else {})
    r = client.post("/api/chat", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def group(report, fact, doc_id=None, name=None):
    for g in report["groups"]:
        if (
            g["fact"] == fact
            and g["name"] == name
            and (doc_id is None or doc_id in [d["doc_id"] for d in g["documents"]])
        ):
            return g
    raise AssertionError(f"no group for {fact} / {doc_id or name}: {report['groups']}")


def test_a_refused_and_a_down_rated_answer_appear_under_their_document_and_fact(client):
    answered = chat(client, "How much does the Northeastern program cost?")
    assert answered["answered"] and answered["turn"] == 1
    refused = chat(client, "What GPA does Northeastern require?", answered["session_id"])
    assert not refused["answered"] and refused["turn"] == 2
    unknown = chat(client, "How much does Quillmoor Polytechnic charge for its master's?")
    assert not unknown["answered"]
    r = client.post(
        "/api/feedback",
        json={"session_id": answered["session_id"], "turn": 1, "rating": "down", "reason": "wrong_figure"},
    )
    assert r.status_code == 200 and r.json()["stored"] is True
    report = client.get("/api/insights/unanswered?days=30", headers=ADMIN).json()
    rated = group(report, "cost", NORTHEASTERN)
    assert rated["rated_down"] == 1 and rated["reasons"] == {"wrong_figure": 1}
    assert "How much does the Northeastern program cost?" in rated["examples"]
    gpa = group(report, "gpa", NORTHEASTERN)
    assert gpa["refused"] >= 1 and "What GPA does Northeastern require?" in gpa["examples"]
    assert any(g["name"] and "Quillmoor" in g["name"] and g["fact"] == "cost" for g in report["groups"])
    assert report["feedback"]["down"] >= 1
    metrics = client.get("/metrics").text
    assert 'pqa_feedback_total{rating="down"}' in metrics


def test_an_openai_answer_is_rated_by_its_id(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "program-qa", "messages": [{"role": "user", "content": "Is the GRE required at Northeastern?"}]},
    )
    ident = r.json()["id"]
    rated = client.post("/api/feedback", json={"response_id": ident, "rating": "up"})
    assert rated.status_code == 200 and rated.json() == {"session_id": ident, "turn": 1, "rating": "up", "stored": True}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"session_id": "no-such-session", "turn": 1, "rating": "up"}, 404, "was not found"),
        ({"response_id": "chatcmpl-unknown", "rating": "down"}, 404, "was not found"),
        ({"rating": "up"}, 422, "session_id and turn, or response_id"),
        ({"session_id": "abc", "turn": 1, "rating": "meh"}, 422, "rating"),
        ({"session_id": "abc", "turn": 0, "rating": "up"}, 422, "turn"),
    ],
)
def test_feedback_that_names_no_answer_gets_a_clear_4xx(client, body, status, words):
    r = client.post("/api/feedback", json=body)
    assert r.status_code == status and words in r.json()["detail"]


def test_feedback_on_a_turn_past_the_last_and_a_reason_on_up(client):
    sid = chat(client, "Is the GRE required at Northeastern?")["session_id"]
    r = client.post("/api/feedback", json={"session_id": sid, "turn": 2, "rating": "down"})
    assert r.status_code == 404 and "has no turn 2" in r.json()["detail"]
    r = client.post("/api/feedback", json={"session_id": sid, "turn": 1, "rating": "up", "reason": "outdated"})
    assert r.status_code == 400 and "only with rating 'down'" in r.json()["detail"]


def test_the_admin_reports_refuse_without_the_token(client, server_settings, tmp_path):
    for path in ("/api/insights/unanswered", "/api/insights/coverage"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
    with TestClient(create_app(server_settings(tmp_path))) as no_admin:  # no PQA_ADMIN_TOKEN: disabled
        r = no_admin.get("/api/insights/coverage", headers=ADMIN)
        assert r.status_code == 403 and "PQA_ADMIN_TOKEN" in r.json()["detail"]


def test_the_coverage_of_the_seed_documents(client):
    deadline = time.time() + 120
    while not (coverage := client.get("/api/insights/coverage", headers=ADMIN).json())["complete"]:
        assert time.time() < deadline, "coverage was not measured in the background"
        time.sleep(0.2)
    doc = next(d for d in coverage["documents"] if d["doc_id"] == NORTHEASTERN)
    assert doc["type"] == "program"
    cells = {c["fact"]: c for c in doc["cells"]}
    assert cells["cost"]["answered"] and "$61,728" in cells["cost"]["quote"]
    assert cells["test_policy"]["answered"] and "GRE is not required" in cells["test_policy"]["quote"]
    assert not cells["gpa"]["answered"] and cells["gpa"]["quote"] is None and "gpa" in doc["missing"]
    labels = [f["label"] for f in coverage["facts"]["program"]]
    assert [c["label"] for c in doc["cells"]] == labels


def test_nothing_is_stored_when_insights_are_off(server_settings, tmp_path):
    settings = server_settings(tmp_path, admin_token=TOKEN, insights=False)
    with TestClient(create_app(settings)) as off:
        body = chat(off, "What GPA does Northeastern require?")
        assert not body["answered"]
        r = off.post("/api/feedback", json={"session_id": body["session_id"], "turn": 1, "rating": "down"})
        assert r.status_code == 200 and r.json()["stored"] is False
        assert off.get("/api/insights/unanswered", headers=ADMIN).json()["total"] == 0
        off.app.state.engine.sessions.flush()
    with sqlite3.connect(settings.session_db) as db:
        assert db.execute("SELECT COUNT(*) FROM asked").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 1  # the conversation itself is kept


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("What's the sticker price of the degree?", "cost"),
        ("By what date must my application be in?", "deadline"),
        ("Do they want GMAT results?", "test_policy"),
        ("How many years will it take me to graduate?", "duration"),
        ("Can I do the whole degree from home?", "format"),
        ("What do actuaries make a year?", "pay"),
        ("Will there be many openings for statisticians in ten years?", "outlook"),
    ],
)
def test_questions_are_sorted_to_facts_by_meaning(real_embedder, question, fact):
    catalogue = FactCatalogue.load()
    assert catalogue.sort_questions(real_embedder.embed([question]), real_embedder.embed) == [fact]


def test_the_engine_answers_the_coverage_questions_from_the_document_asked(server_settings, tmp_path):
    engine = QAEngine(server_settings(tmp_path))
    engine.start()
    try:
        coverage = engine.check_coverage(engine.state())
        assert coverage.complete and {d.doc_id for d in coverage.documents} == {
            d["doc_id"] for d in engine.state().index.documents
        }
        career = next(d for d in coverage.documents if d.doc_id != NORTHEASTERN)
        assert career.type == "career" and next(c for c in career.cells if c.fact == "pay").answered
    finally:
        engine.close()
