"""The OpenAI-compatible endpoint, driven by the official ``openai`` Python package against a real uvicorn server."""

from __future__ import annotations

import httpx
import openai
import pytest

from .conftest import Server

pytestmark = pytest.mark.integration
KEY = "sk-test-program-qa"
CREDITS = "How many credits does Lakeview State's robotics MS require?"


@pytest.fixture(scope="module")
def keyed_server(schools_root):
    running = Server(schools_root, PQA_API_KEYS=f"another-key, {KEY}")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(keyed_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=keyed_server.url + "/v1", api_key=KEY, max_retries=0, timeout=60)


def extra(obj) -> dict:
    return obj.model_extra["program_qa"]


def test_models_lists_the_product_with_its_index_version(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["program-qa"]
    assert models.data[0].model_extra["index_version"]


def test_plain_completion_quotes_and_cites_the_right_page(client):
    completion = client.chat.completions.create(
        model="program-qa", messages=[{"role": "user", "content": CREDITS}], temperature=0.2, max_tokens=300, user="t"
    )
    message = completion.choices[0].message
    assert message.role == "assistant" and completion.choices[0].finish_reason == "stop"
    assert "30 credits" in message.content and "[1]" in message.content
    data = extra(completion)
    assert data["answered"] is True
    assert data["citations"][0]["n"] == 1 and "Lakeview" in data["citations"][0]["title"]
    # A client that ignores the extra field still shows where the answer comes from.
    assert "Sources:\n[1] Lakeview State University" in message.content
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_streamed_completion_reassembles_to_the_answer_with_citations_in_the_last_chunk(client):
    question = [{"role": "user", "content": "What's the minimum GPA at Harbor Tech?"}]
    plain = client.chat.completions.create(model="program-qa", messages=question).choices[0].message.content
    chunks = list(client.chat.completions.create(model="program-qa", messages=question, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain and "3.1" in text
    assert len(chunks) > 4  # sent in pieces, not as one block
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert extra(last)["answered"] is True and "Harbor" in extra(last)["citations"][0]["title"]


def test_follow_up_is_resolved_from_the_message_list(client):
    first = client.chat.completions.create(model="program-qa", messages=[{"role": "user", "content": CREDITS}])
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": CREDITS},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "What about at Harbor Tech?"},
    ]
    completion = client.chat.completions.create(model="program-qa", messages=messages)
    data = extra(completion)
    assert "33-credit" in completion.choices[0].message.content
    assert data["query"] == "How many credits does Harbor Tech's robotics MS require?"
    assert "Harbor" in data["citations"][0]["title"]


def test_refusal_is_an_ordinary_assistant_message(client):
    completion = client.chat.completions.create(
        model="program-qa",
        messages=[{"role": "user", "content": "What is the acceptance rate of Lakeview State's robotics MS?"}],
    )
    data = extra(completion)
    assert data["answered"] is False and data["citations"] == []
    content = completion.choices[0].message.content
    assert "acceptance rate" in content and "Lakeview" in content and "Sources:" not in content


def test_wrong_or_missing_key_is_refused_with_a_clear_message(keyed_server):
    wrong = openai.OpenAI(base_url=keyed_server.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="program-qa", messages=[{"role": "user", "content": CREDITS}])
    assert caught.value.status_code == 401 and "not valid" in str(caught.value)
    # The same keys guard the product's own API; the page and health checks stay open.
    bare = httpx.post(keyed_server.url + "/api/chat", json={"message": CREDITS}, timeout=30)
    assert bare.status_code == 401 and "Authorization: Bearer" in bare.json()["detail"]
    keyed = httpx.post(
        keyed_server.url + "/api/chat",
        json={"message": CREDITS},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert keyed.status_code == 200 and "30 credits" in keyed.json()["answer"]
    assert httpx.get(keyed_server.url + "/healthz", timeout=10).status_code == 200


def test_bad_request_gets_an_openai_shaped_error(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="program-qa", messages=[{"role": "assistant", "content": "hi"}])
    assert "no user message" in str(caught.value)
