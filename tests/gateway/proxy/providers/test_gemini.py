"""The Gemini adapter: OpenAI-form requests as generateContent, answers and SSE streams back."""

from __future__ import annotations

import base64
import re
import struct
from typing import Any

import orjson
import pytest

from gateway.proxy.errors import InvalidRequest, StreamProtocolError, UpstreamStreamError
from gateway.proxy.providers import adapter_for
from gateway.proxy.providers.base import Usage
from gateway.proxy.providers.common import base64_embeddings
from gateway.proxy.providers.gemini import GeminiAdapter
from gateway.proxy.providers.gemini.response import GeminiStreamDecoder
from gateway.proxy.providers.gemini.schema import gemini_schema
from tests.gateway.proxy.providers.wire import (
    assert_same_at_every_split,
    body_of,
    decode,
    deployment,
    fixture,
    text_of_stream,
    tool_calls_of_stream,
)

KEY = "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234"
FLASH = deployment("gemini", "gemini-2.5-flash")
adapter = GeminiAdapter()

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "additionalProperties": False,
        },
    },
}


def sent(body: dict[str, Any], d: Any = FLASH) -> dict[str, Any]:
    return body_of(adapter.chat_request(body, d, KEY, stream=False).body)


def test_it_posts_generate_content_with_its_key_header_not_in_the_url() -> None:
    request = adapter_for("gemini").chat_request({"messages": []}, FLASH, KEY, stream=False)
    assert request.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert request.headers == {"content-type": "application/json", "x-goog-api-key": KEY}
    assert KEY not in request.url


def test_a_stream_asks_for_server_sent_events() -> None:
    request = adapter.chat_request({"messages": []}, FLASH, KEY, stream=True)
    assert request.url.endswith("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert request.stream


def test_an_api_base_with_its_own_version_is_kept() -> None:
    d = deployment("gemini", "models/gemini-2.0-flash", api_base="https://proxy.test/v1alpha/")
    request = adapter.chat_request({"messages": []}, d, KEY, stream=False)
    assert request.url == "https://proxy.test/v1alpha/models/gemini-2.0-flash:generateContent"


def test_a_conversation_becomes_contents_with_a_system_instruction() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AA"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
                ],
            },
            {"role": "assistant", "content": "A cat."},
            {"role": "user", "content": "Sure?"},
        ],
        "max_tokens": 100,
        "temperature": 0.3,
        "top_p": 0.8,
        "stop": ["END"],
        "seed": 1,
    }
    assert sent(body) == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is in this image?"},
                    {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AA"}},
                    {"fileData": {"mimeType": "image/png", "fileUri": "https://x.test/cat.png"}},
                ],
            },
            {"role": "model", "parts": [{"text": "A cat."}]},
            {"role": "user", "parts": [{"text": "Sure?"}]},
        ],
        "generationConfig": {
            "maxOutputTokens": 100,
            "temperature": 0.3,
            "topP": 0.8,
            "stopSequences": ["END"],
            "seed": 1,
        },
    }


def test_tool_calls_and_results_become_function_calls_and_responses() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1__sig__Ab-_Cd",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1__sig__Ab-_Cd", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": "24C"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    out = sent(body)
    assert out["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"location": "Paris"}},
                    "thoughtSignature": "Ab+/Cd==",
                },
                {"functionCall": {"name": "get_weather", "args": {"location": "Rome"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "18C"}}},
                {"functionResponse": {"name": "get_weather", "response": {"result": "24C"}}},
            ],
        },
    ]
    assert out["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Get the weather",
                    "parameters": {
                        "type": "object",
                        "properties": {"location": {"type": "string"}},
                        "required": ["location"],
                    },
                }
            ]
        }
    ]
    assert out["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }


def test_a_signature_with_any_base64_characters_survives_the_trip_in_an_id() -> None:
    answer = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "ab+/cd=="}
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "responseId": "r1",
    }
    completion, _ = adapter.chat_response(orjson.dumps(answer), "a")
    [call] = completion["choices"][0]["message"]["tool_calls"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", call["id"]), "Anthropic accepts it as a tool id"
    history = {"messages": [completion["choices"][0]["message"]]}
    [part] = sent(history, deployment("gemini", "gemini-3-pro-preview"))["contents"][0]["parts"]
    assert part["thoughtSignature"] == "ab+/cd=="


def test_a_gemini_3_call_without_a_known_signature_gets_the_documented_stand_in() -> None:
    call = {"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = {"messages": [{"role": "assistant", "content": None, "tool_calls": [call, call]}]}
    parts = sent(body, deployment("gemini", "gemini-3-pro-preview"))["contents"][0]["parts"]
    assert parts[0]["thoughtSignature"] == "skip_thought_signature_validator"
    assert "thoughtSignature" not in parts[1]
    older = sent(body)["contents"][0]["parts"]
    assert all("thoughtSignature" not in p for p in older)


def test_a_tool_result_for_no_known_call_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="answers no earlier tool call"):
        sent({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]})


@pytest.mark.parametrize(
    ("choice", "mode"), [("auto", "AUTO"), ("required", "ANY"), ("none", "NONE")]
)
def test_tool_choice_maps_to_a_function_calling_mode(choice: str, mode: str) -> None:
    out = sent({"messages": [], "tools": [WEATHER_TOOL], "tool_choice": choice})
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": mode}}


def test_a_json_schema_response_format_becomes_a_response_schema_gemini_accepts() -> None:
    schema = {
        "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "type": "object",
        "properties": {
            "city": {"$ref": "#/$defs/City"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "kind": {"const": "weather"},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        "required": ["city"],
        "additionalProperties": False,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }
    body = {
        "messages": [],
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": schema}},
    }
    config = sent(body)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {
        "type": "object",
        "properties": {
            "city": {"type": "object", "properties": {"name": {"type": "string"}}},
            "note": {"type": "string", "default": None, "nullable": True},
            "kind": {"enum": ["weather"]},
            "tags": {"type": "array", "nullable": True, "items": {"type": "string"}},
        },
        "required": ["city"],
    }


def test_a_recursive_schema_is_cut_off_instead_of_inlined_forever() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    depth = 0
    node = gemini_schema(schema)
    while "properties" in node:
        node = node["properties"]["child"]
        depth += 1
    assert 5 < depth < 20


def test_a_text_answer_becomes_a_completion_counting_thoughts_as_output() -> None:
    answer, usage = adapter.chat_response(fixture("gemini_generate.json"), "smart")
    assert answer["id"] == "mAitaLmkHPPlz7IPvtfUqQ4"
    assert answer["model"] == "smart"
    assert answer["choices"][0]["message"]["content"] == (
        "Why did the chicken cross the road? To get to the other side!"
    )
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert usage == Usage(
        input_tokens=2048, output_tokens=112, cached_input_tokens=2000, reasoning_tokens=100
    )
    assert answer["usage"]["completion_tokens_details"] == {"reasoning_tokens": 100}


def test_function_calls_become_tool_calls_whose_ids_carry_the_thought_signature() -> None:
    answer, _ = adapter.chat_response(fixture("gemini_function_call.json"), "smart")
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    calls = choice["message"]["tool_calls"]
    assert [orjson.loads(c["function"]["arguments"]) for c in calls] == [
        {"location": "London"},
        {"location": "Paris"},
    ]
    assert calls[0]["id"].endswith("__sig__CiQB0e2Kb7ZC2aQ3qVhZ")
    assert "__sig__" not in calls[1]["id"]
    assert calls[0]["id"] != calls[1]["id"]
    # The client sends the calls back with its results: the signature returns to Gemini.
    history = {
        "messages": [
            {"role": "user", "content": "Temperatures?"},
            choice["message"],
            {"role": "tool", "tool_call_id": calls[0]["id"], "content": "14"},
            {"role": "tool", "tool_call_id": calls[1]["id"], "content": "17"},
        ]
    }
    replayed = sent(history, deployment("gemini", "gemini-3-flash-preview"))["contents"][1]
    assert replayed["parts"][0]["thoughtSignature"] == "CiQB0e2Kb7ZC2aQ3qVhZ"
    assert "thoughtSignature" not in replayed["parts"][1]


def test_a_blocked_prompt_answers_with_a_content_filter_finish() -> None:
    answer, usage = adapter.chat_response(fixture("gemini_blocked.json"), "smart")
    assert answer["choices"][0]["finish_reason"] == "content_filter"
    assert usage.input_tokens == 8


def test_a_stream_with_crlf_events_becomes_canonical_chunks_ending_with_usage() -> None:
    decoder = adapter.chat_stream("smart")
    chunks = decode(decoder, fixture("gemini_stream.sse"))
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert text_of_stream(chunks) == "The sky is blue because of Rayleigh scattering — ✓."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 31
    assert decoder.usage == Usage(input_tokens=9, output_tokens=31, reasoning_tokens=18)


def test_a_streamed_function_call_arrives_whole_as_a_tool_call() -> None:
    chunks = decode(adapter.chat_stream("smart"), fixture("gemini_tool_stream.sse"))
    calls = tool_calls_of_stream(chunks)
    assert calls[0]["name"] == "get_weather"
    assert orjson.loads(calls[0]["arguments"]) == {"location": "Boston, MA", "unit": "celsius"}
    assert calls[0]["id"].endswith("__sig__EqUDCqIDAdHtim9")
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("name", ["gemini_stream.sse", "gemini_tool_stream.sse"])
def test_a_stream_split_at_every_byte_decodes_the_same_as_whole(name: str) -> None:
    assert_same_at_every_split(lambda: GeminiStreamDecoder("a"), fixture(name))


def test_a_stream_that_stops_before_a_finish_reason_is_a_protocol_error() -> None:
    stream = fixture("gemini_stream.sse")
    cut = stream[: stream.rindex(b"data: ")]
    with pytest.raises(StreamProtocolError, match="finishReason"):
        decode(adapter.chat_stream("a"), cut)


def test_an_error_inside_a_stream_is_raised_with_its_status() -> None:
    stream = (
        b'data: {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}\r\n\r\n'
    )
    with pytest.raises(UpstreamStreamError) as raised:
        decode(adapter.chat_stream("a"), stream)
    assert raised.value.error.status == 503
    assert raised.value.error.type == "UNAVAILABLE"


def test_embeddings_go_through_batch_embed_contents() -> None:
    body = {"model": "embed", "input": ["a", "b"], "dimensions": 3}
    request = adapter.embeddings_request(body, deployment("gemini", "gemini-embedding-001"), KEY)
    assert request.url.endswith("/v1beta/models/gemini-embedding-001:batchEmbedContents")
    assert body_of(request.body) == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": t}]},
                "outputDimensionality": 3,
            }
            for t in ("a", "b")
        ]
    }
    answer, _ = adapter.embeddings_response(fixture("gemini_embeddings.json"), "embed")
    assert answer["model"] == "embed"
    assert [d["index"] for d in answer["data"]] == [0, 1]
    assert answer["data"][0]["embedding"] == [0.013168523, -0.008711934, -0.046782676]


def test_float_embeddings_re_encode_as_openais_base64() -> None:
    answer = {"data": [{"object": "embedding", "index": 0, "embedding": [0.5, -2.0]}]}
    encoded = base64_embeddings(answer)["data"][0]["embedding"]
    assert struct.unpack("<2f", base64.b64decode(encoded)) == (0.5, -2.0)


def test_token_arrays_cannot_be_embedded_by_gemini() -> None:
    with pytest.raises(InvalidRequest):
        adapter.embeddings_request({"input": [[1, 2, 3]]}, FLASH, KEY)
