"""The JSON API through FastAPI's test client, on the real model and a real index."""

import pytest
from fastapi.testclient import TestClient

from server.api.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(server_settings, tmp_path_factory):
    with TestClient(create_app(server_settings(tmp_path_factory.mktemp("sessions")))) as c:
        yield c


def cited(body):
    return [c for c in body["citations"] if f"[{c['n']}]" in body["answer"]]


def test_chat_answers_with_a_citation(client):
    r = client.post("/api/chat", json={"message": "How much does the Northeastern program cost?"})
    assert r.status_code == 200
    body = r.json()
    assert body["answered"] and "$61,728" in body["answer"]
    assert any("$61,728" in c["text"] and c["doc_id"].startswith("northeastern") for c in cited(body))
    assert len(body["answer"]) <= 400
    quote = cited(body)[0]["quotes"][0]
    assert "$61,728" in cited(body)[0]["text"][quote[0] : quote[1]]


def test_conversation_follow_ups(client):
    r = client.post("/api/chat", json={"message": "Tell me about Northeastern's advanced manufacturing master's"})
    sid = r.json()["session_id"]
    r = client.post("/api/chat", json={"message": "How much does it cost?", "session_id": sid})
    body = r.json()
    assert body["session_id"] == sid and "$61,728" in body["answer"]
    assert "Northeastern" in body["query"]
    r = client.post("/api/chat", json={"message": "Is the GRE required?", "session_id": sid})
    assert "not required" in r.json()["answer"]


def test_compare_question_cites_both_documents(client):
    r = client.post(
        "/api/chat",
        json={"message": "How does Northeastern's tuition compare with the usual range for AI master's programs?"},
    )
    body = r.json()
    assert "61,728" in body["answer"] and ("40,000" in body["answer"] or "120,000" in body["answer"])
    assert len({c["doc_id"] for c in cited(body)}) == 2


@pytest.mark.parametrize(
    "message",
    [
        "What is the tuition for Stanford's computer science master's?",
        "What will the weather be in Boston tomorrow?",
        "Who is Jane Smith?",
        "¿Cuánto cuesta la matrícula?",
        "?!?!",
    ],
)
def test_out_of_scope_is_refused_helpfully(client, message):
    body = client.post("/api/chat", json={"message": message}).json()
    assert body["answered"] is False and body["citations"] == []
    assert "They cover" in body["answer"] and body["suggestions"]
    if "Stanford" in message:
        assert "don't mention Stanford" in body["answer"]  # the unknown subject is named in the refusal


def test_small_talk(client):
    body = client.post("/api/chat", json={"message": "Hello!"}).json()
    assert body["answered"] and body["answer"].startswith("Hello!") and body["citations"] == []
    body = client.post("/api/chat", json={"message": "what can you do?"}).json()
    assert "documents" in body["answer"]


def test_unknown_session_starts_a_new_one(client):
    body = client.post(
        "/api/chat", json={"message": "What is the GRE policy at Northeastern?", "session_id": "doesnotexist"}
    ).json()
    assert body["session_id"] != "doesnotexist" and "not found" in body["notice"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "detail"),
    [
        ("/api/chat", {"message": "   "}, 400, "message is empty"),
        ("/api/chat", {"message": "x" * 2001}, 400, "message is 2001 characters; the limit is 2000"),
        ("/api/chat", {"message": 42}, 422, "message: Input should be a valid string"),
        ("/api/chat", {}, 422, "message: Field required"),
        (
            "/api/chat",
            {"message": "cost?", "doc_ids": ["nope"]},
            400,
            "unknown doc_ids: nope (GET /api/documents lists them)",
        ),
        ("/api/chat", {"message": "hi", "session_id": "../../etc"}, 422, "session_id: String should match pattern"),
        ("/api/search", {"query": "cost", "k": 0}, 400, "k must be between 1 and 50"),
        ("/api/search", {"query": "cost", "k": 51}, 400, "k must be between 1 and 50"),
        ("/api/search", {"query": ""}, 400, "query is empty"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client, path, payload, status, detail):
    r = client.post(path, json=payload)
    assert r.status_code == status
    assert r.json()["detail"].startswith(detail)


def test_malformed_json(client):
    r = client.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]


def test_search_documents_health_and_openapi(client):
    results = client.post("/api/search", json={"query": "GRE requirement Northeastern", "k": 3}).json()["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert any("GRE is not required" in r["text"] for r in results)
    docs = client.get("/api/documents").json()["documents"]
    assert {d["doc_id"] for d in docs} == {
        "ai-masters-careers-in-manufacturing",
        "northeastern-ms-advanced-intelligent-manufacturing",
    }
    assert all(d["chunks"] > 5 and len(d["content_hash"]) == 64 for d in docs)
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["index"]["documents"] == 2
    assert health["index"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/chat", "/api/search", "/api/documents", "/healthz"} <= set(schema["paths"])


def test_doc_filter_in_chat(client):
    message = "How much does a master's program cost?"
    body = client.post(
        "/api/chat", json={"message": message, "doc_ids": ["ai-masters-careers-in-manufacturing"]}
    ).json()
    assert body["answered"] and "$40,000" in body["answer"]
    assert all(c["doc_id"] == "ai-masters-careers-in-manufacturing" for c in body["citations"])
    body = client.post(
        "/api/chat", json={"message": message, "doc_ids": ["northeastern-ms-advanced-intelligent-manufacturing"]}
    ).json()
    assert body["answered"] and "$61,728" in body["answer"]


def test_chat_page_headers_and_stream(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="message"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert (
        "access-control-allow-origin" not in client.get("/healthz", headers={"Origin": "https://evil.example"}).headers
    )
    stream = client.post("/api/chat/stream", json={"message": "How much does the Northeastern program cost?"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = [block for block in stream.text.split("\n\n") if block]
    assert events[0].startswith("event: start") and events[-1].startswith("event: final")
    import json

    final = json.loads(events[-1].split("data: ", 1)[1])
    deltas = "".join(json.loads(e.split("data: ", 1)[1])["text"] for e in events if e.startswith("event: delta"))
    assert deltas == final["answer"] and "$61,728" in final["answer"]
    assert client.post("/api/chat/stream", json={"message": ""}).status_code == 400
