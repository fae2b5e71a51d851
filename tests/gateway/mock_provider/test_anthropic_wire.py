"""Anthropic Messages on the wire: whole and streamed answers, tool use, headers, errors."""

from __future__ import annotations

import httpx
import orjson

from tests.gateway.mock_provider.conftest import ANTHROPIC, sse_events

WEATHER_TOOL = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def message(content: object = "Hello there, friend", **extra: object) -> dict[str, object]:
    return {
        "model": "claude-mock",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def test_a_message_answers_with_a_text_block_and_predictable_usage(mock: httpx.Client) -> None:
    body = message(system=[{"type": "text", "text": "Be kind."}])
    response = mock.post("/v1/messages", json=body, headers=ANTHROPIC)
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "message"
    assert answer["role"] == "assistant"
    assert answer["id"].startswith("msg_")
    assert answer["content"] == [{"type": "text", "text": "Mock answer to: Hello there, friend"}]
    assert answer["stop_reason"] == "end_turn"
    assert answer["stop_sequence"] is None
    assert answer["usage"] == {
        "input_tokens": 5,
        "output_tokens": 6,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "service_tier": "standard",
    }


def test_max_tokens_is_required_and_stops_the_answer_at_max_tokens(mock: httpx.Client) -> None:
    answer = mock.post("/v1/messages", json=message(max_tokens=1), headers=ANTHROPIC).json()
    assert answer["content"][0]["text"] == "Mock"
    assert answer["stop_reason"] == "max_tokens"
    body = message()
    del body["max_tokens"]
    refused = mock.post("/v1/messages", json=body, headers=ANTHROPIC)
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"


def test_a_stream_is_the_real_event_sequence(mock: httpx.Client) -> None:
    response = mock.post("/v1/messages", json=message("Hi", stream=True), headers=ANTHROPIC)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names == [
        "message_start", "content_block_start", "ping",
        "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop",
    ]  # fmt: skip
    payloads = [orjson.loads(data) for _, data in events]
    assert [p["type"] for p in payloads] == names  # every data names its own event
    assert payloads[0]["message"]["usage"]["input_tokens"] == 1
    assert payloads[1]["content_block"] == {"type": "text", "text": ""}
    text = "".join(p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta")
    assert text == "Mock answer to: Hi"
    assert payloads[-2]["delta"]["stop_reason"] == "end_turn"
    assert payloads[-2]["usage"]["output_tokens"] == 4


def test_tools_get_a_tool_use_block_whole_or_as_input_json_deltas(mock: httpx.Client) -> None:
    body = message("Weather in Rome?", tools=[WEATHER_TOOL])
    answer = mock.post("/v1/messages", json=body, headers=ANTHROPIC).json()
    (block,) = answer["content"]
    assert block["type"] == "tool_use"
    assert block["id"].startswith("toolu_")
    assert (block["name"], block["input"]) == ("get_weather", {"city": "Weather in Rome?"})
    assert answer["stop_reason"] == "tool_use"

    streamed = mock.post("/v1/messages", json={**body, "stream": True}, headers=ANTHROPIC)
    payloads = [orjson.loads(data) for _, data in sse_events(streamed.text)]
    assert payloads[1]["content_block"]["type"] == "tool_use"
    deltas = [p["delta"] for p in payloads if p["type"] == "content_block_delta"]
    assert {d["type"] for d in deltas} == {"input_json_delta"}
    assert orjson.loads("".join(d["partial_json"] for d in deltas)) == {"city": "Weather in Rome?"}
    assert payloads[-2]["delta"]["stop_reason"] == "tool_use"


def test_a_tool_result_is_answered_in_text(mock: httpx.Client) -> None:
    body = message(tools=[WEATHER_TOOL])
    body["messages"] = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather",
                                           "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": "sunny and warm"}]},
    ]  # fmt: skip
    answer = mock.post("/v1/messages", json=body, headers=ANTHROPIC).json()
    assert answer["stop_reason"] == "end_turn"
    assert answer["content"][0]["type"] == "text"
    assert answer["usage"]["input_tokens"] == 4  # "Weather?" + "sunny and warm"


def test_cached_prompt_tokens_are_cache_reads_outside_input_tokens(mock: httpx.Client) -> None:
    headers = {**ANTHROPIC, "x-mock-scenario": "cached:2"}
    usage = mock.post("/v1/messages", json=message(), headers=headers).json()["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"]) == (1, 2)


def test_it_needs_an_api_key_and_a_version_header(mock: httpx.Client) -> None:
    no_key = mock.post("/v1/messages", json=message(), headers={"anthropic-version": "2023-06-01"})
    assert no_key.status_code == 401
    assert no_key.json()["type"] == "error"
    assert no_key.json()["error"]["type"] == "authentication_error"
    no_version = mock.post("/v1/messages", json=message(), headers={"x-api-key": "k"})
    assert no_version.status_code == 400
    assert no_version.json()["error"]["type"] == "invalid_request_error"


def test_it_counts_tokens_and_lists_models_in_anthropics_shape(mock: httpx.Client) -> None:
    counted = mock.post("/v1/messages/count_tokens", json=message(), headers=ANTHROPIC)
    assert counted.json() == {"input_tokens": 3}
    listing = mock.get("/v1/models", headers=ANTHROPIC).json()
    assert listing["data"][0]["type"] == "model"
    assert listing["has_more"] is False
