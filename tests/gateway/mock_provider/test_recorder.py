"""What the mock remembers for tests: counts, the last requests' headers and keys, disconnects."""

from __future__ import annotations

import httpx

from gateway.mock_provider.app import MockSettings, build_app
from gateway.mock_provider.recorder import MAX_RECENT
from tests.gateway.mock_provider.conftest import ANTHROPIC, OPENAI, chat, recorded


def test_it_counts_requests_per_path_and_per_scenario(mock: httpx.Client) -> None:
    mock.post("/v1/chat/completions", json=chat(), headers=OPENAI)
    mock.post("/v1/chat/completions", json=chat(model="mock-chunks-3"), headers=OPENAI)
    mock.post("/v1/embeddings", json={"model": "e", "input": "x"},
              headers={**OPENAI, "x-mock-scenario": "chunks:3"})  # fmt: skip
    mock.get("/healthz")  # not a provider request
    record = recorded(mock)
    assert record["total"] == 3
    assert record["by_path"] == {"/v1/chat/completions": 2, "/v1/embeddings": 1}
    assert record["by_scenario"] == {"none": 1, "chunks:3": 2}
    assert record["disconnects"] == 0


def test_it_keeps_the_last_requests_headers_body_and_the_key_each_dialect_sent(
    mock: httpx.Client,
) -> None:
    mock.post("/v1/messages", headers={**ANTHROPIC, "x-trace": "t1"},
              json={"model": "claude-mock", "max_tokens": 5,
                    "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
    last = recorded(mock)["last"]
    assert isinstance(last, dict)
    assert last["api_key"] == "sk-ant-test"
    assert last["headers"]["x-trace"] == "t1"
    assert "authorization" not in last["headers"]
    assert last["body"]["messages"] == [{"role": "user", "content": "hi"}]
    assert last["model"] == "claude-mock"

    mock.post("/v1beta/models/gemini-mock:generateContent?key=gm-query",
              json={"contents": [{"parts": [{"text": "hi"}]}]})  # fmt: skip
    mock.post("/openai/deployments/d/chat/completions?api-version=1", json=chat(),
              headers={"api-key": "az-key"})  # fmt: skip
    recent = recorded(mock)["recent"]
    assert isinstance(recent, list)
    assert [(r["api_key"], r["query"]) for r in recent[-2:]] == [
        ("gm-query", "key=gm-query"),
        ("az-key", "api-version=1"),
    ]


def test_requests_refused_for_their_key_are_recorded_too(mock: httpx.Client) -> None:
    refused = mock.post("/v1/chat/completions", json=chat(), headers={"authorization": "Basic x"})
    assert refused.status_code == 401
    last = recorded(mock)["last"]
    assert isinstance(last, dict)
    assert last["api_key"] is None
    assert last["headers"]["authorization"] == "Basic x"


def test_it_keeps_only_the_most_recent_requests_and_forgets_on_reset(mock: httpx.Client) -> None:
    for n in range(MAX_RECENT + 5):
        mock.post("/v1/chat/completions", json=chat(f"message {n}"), headers=OPENAI)
    record = recorded(mock)
    assert record["total"] == MAX_RECENT + 5
    recent = record["recent"]
    assert isinstance(recent, list)
    assert len(recent) == MAX_RECENT
    assert recent[0]["body"]["messages"][0]["content"] == "message 5"
    assert mock.post("/_mock/reset").json() == {"status": "reset"}
    assert recorded(mock) == {
        "total": 0, "by_path": {}, "by_scenario": {}, "disconnects": 0, "last": None, "recent": [],
    }  # fmt: skip


async def test_with_a_required_key_only_that_key_is_accepted() -> None:
    app = build_app(MockSettings(required_key="the-key"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        wrong = await client.post("/v1/chat/completions", json=chat(),
                                  headers={"authorization": "Bearer other"})  # fmt: skip
        right = await client.post("/v1/chat/completions", json=chat(),
                                  headers={"authorization": "Bearer the-key"})  # fmt: skip
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200


async def test_an_unknown_path_is_a_404_and_a_wrong_method_a_405() -> None:
    transport = httpx.ASGITransport(app=build_app(MockSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        missing = await client.get("/v2/nothing")
        wrong = await client.get("/v1/chat/completions", headers=OPENAI)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert wrong.status_code == 405
