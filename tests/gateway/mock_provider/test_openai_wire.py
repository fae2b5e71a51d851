"""OpenAI and Azure OpenAI on the wire: chat (whole and streamed), tools, embeddings, models."""

from __future__ import annotations

import base64
import struct

import httpx
import orjson

from tests.gateway.mock_provider.conftest import OPENAI, chat, sse_events, sse_json

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        },
    },
}


def test_a_chat_completion_answers_from_the_last_user_message_with_predictable_usage(
    mock: httpx.Client,
) -> None:
    body = chat(messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]},
    ])  # fmt: skip
    response = mock.post("/v1/chat/completions", json=body, headers=OPENAI)
    assert response.status_code == 200
    answer = response.json()
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "gpt-mock"
    choice = answer["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Mock answer to: What is the capital of France?",
        "refusal": None,
        "annotations": [],
    }
    assert choice["finish_reason"] == "stop"
    usage = answer["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (8, 9, 17)
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_max_tokens_cuts_the_answer_with_finish_reason_length(mock: httpx.Client) -> None:
    for field in ("max_tokens", "max_completion_tokens"):
        body = chat()
        body[field] = 2
        response = mock.post("/v1/chat/completions", json=body, headers=OPENAI)
        answer = response.json()
        assert answer["choices"][0]["message"]["content"] == "Mock answer"
        assert answer["choices"][0]["finish_reason"] == "length"
        assert answer["usage"]["completion_tokens"] == 2


def test_a_stream_sends_chunks_then_usage_then_done(mock: httpx.Client) -> None:
    body = chat("Hi", stream=True, stream_options={"include_usage": True})
    response = mock.post("/v1/chat/completions", json=body, headers=OPENAI)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert sse_events(response.text)[-1] == (None, "[DONE]")
    chunks = sse_json(response.text)
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Mock answer to: Hi"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 1
    assert chunks[-1]["usage"]["completion_tokens"] == 4
    assert all(c["usage"] is None for c in chunks[:-1])


def test_a_stream_without_include_usage_has_no_usage_chunk(mock: httpx.Client) -> None:
    response = mock.post("/v1/chat/completions", json=chat(stream=True), headers=OPENAI)
    chunks = sse_json(response.text)
    assert all(c["choices"] and "usage" not in c for c in chunks)


def test_a_request_with_tools_gets_a_call_to_the_first_tool(mock: httpx.Client) -> None:
    body = chat("Weather in Paris?", tools=[WEATHER_TOOL])
    answer = mock.post("/v1/chat/completions", json=body, headers=OPENAI).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    arguments = call["function"]["arguments"]
    assert orjson.loads(arguments) == {"city": "Weather in Paris?", "days": 1}
    assert answer["usage"]["completion_tokens"] == len(arguments.split())


def test_a_streamed_tool_call_arrives_as_argument_fragments(mock: httpx.Client) -> None:
    body = chat("Weather in Paris?", tools=[WEATHER_TOOL], stream=True)
    chunks = sse_json(mock.post("/v1/chat/completions", json=body, headers=OPENAI).text)
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["id"].startswith("call_")
    assert first["function"] == {"name": "get_weather", "arguments": ""}
    fragments = [
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in chunks[1:-1]
    ]
    assert len(fragments) > 1
    assert orjson.loads("".join(fragments)) == {"city": "Weather in Paris?", "days": 1}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_choice_none_and_a_tool_result_get_text_instead_of_a_call(
    mock: httpx.Client,
) -> None:
    forbidden = chat(tools=[WEATHER_TOOL], tool_choice="none")
    answered = chat(tools=[WEATHER_TOOL])
    answered["messages"] = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]  # fmt: skip
    for body in (forbidden, answered):
        choice = mock.post("/v1/chat/completions", json=body, headers=OPENAI).json()["choices"][0]
        assert choice["finish_reason"] == "stop"
        assert "tool_calls" not in choice["message"]


def test_embeddings_are_deterministic_vectors_of_the_asked_dimension(mock: httpx.Client) -> None:
    body = {"model": "mock-embedding", "input": ["one two", "three"], "dimensions": 5}
    first = mock.post("/v1/embeddings", json=body, headers=OPENAI).json()
    again = mock.post("/v1/embeddings", json=body, headers=OPENAI).json()
    assert first == again
    assert first["object"] == "list"
    assert [d["index"] for d in first["data"]] == [0, 1]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 5 for d in first["data"])
    assert first["data"][0]["embedding"] != first["data"][1]["embedding"]
    assert first["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_embeddings_take_a_string_or_tokens_and_answer_base64_when_asked(
    mock: httpx.Client,
) -> None:
    plain = mock.post("/v1/embeddings", json={"model": "m", "input": "one two"}, headers=OPENAI)
    vector = plain.json()["data"][0]["embedding"]
    assert len(vector) == 16  # the default dimension
    body = {"model": "m", "input": "one two", "encoding_format": "base64"}
    encoded = mock.post("/v1/embeddings", json=body, headers=OPENAI).json()["data"][0]
    decoded = struct.unpack("<16f", base64.b64decode(encoded["embedding"]))
    assert decoded == struct.unpack("<16f", struct.pack("<16f", *vector))
    tokens = mock.post("/v1/embeddings", json={"model": "m", "input": [1, 2, 3]}, headers=OPENAI)
    assert tokens.json()["usage"]["prompt_tokens"] == 3
    assert len(tokens.json()["data"]) == 1


def test_the_models_list_is_openais_shape(mock: httpx.Client) -> None:
    listing = mock.get("/v1/models", headers=OPENAI).json()
    assert listing["object"] == "list"
    assert {"id": "gpt-mock", "object": "model", "created": 1700000000,
            "owned_by": "selixes-mock"} in listing["data"]  # fmt: skip


def test_azure_deployment_paths_answer_the_same_bodies_with_an_api_key_header(
    mock: httpx.Client,
) -> None:
    azure = {"api-key": "azure-key"}
    path = "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21"
    answer = mock.post(path, json={"messages": chat()["messages"]}, headers=azure).json()
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "my-gpt"
    embeddings = mock.post(
        "/openai/deployments/emb/embeddings?api-version=2024-10-21", json={"input": "x"},
        headers=azure,
    )  # fmt: skip
    assert embeddings.json()["data"][0]["object"] == "embedding"
    assert mock.post(path.split("?")[0], json=chat(), headers=azure).status_code == 404
    assert mock.post(path, json=chat(), headers=OPENAI).status_code == 200  # Entra bearer


def test_a_bad_request_is_a_400_in_openais_error_shape(mock: httpx.Client) -> None:
    for body in (b"{not json", b'{"model": "gpt-mock", "messages": []}'):
        response = mock.post("/v1/chat/completions", content=body, headers=OPENAI)
        assert response.status_code == 400
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
    bad_max = mock.post("/v1/chat/completions", json=chat(max_tokens=0), headers=OPENAI)
    assert bad_max.status_code == 400
