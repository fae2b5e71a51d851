"""The Anthropic adapter: OpenAI-form requests translated, answers and streams translated back."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.proxy.errors import (
    InvalidRequest,
    StreamProtocolError,
    UnsupportedByProvider,
    UpstreamStreamError,
)
from gateway.proxy.providers import adapter_for, native_adapter_for
from gateway.proxy.providers.anthropic import AnthropicAdapter
from gateway.proxy.providers.anthropic.response import AnthropicStreamDecoder
from gateway.proxy.providers.base import Usage
from tests.gateway.proxy.providers.wire import (
    assert_same_at_every_split,
    body_of,
    decode,
    deployment,
    fixture,
    text_of_stream,
    tool_calls_of_stream,
)

KEY = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
CLAUDE = deployment("anthropic", "claude-sonnet-4-20250514")
adapter = AnthropicAdapter()

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


def sent(body: dict[str, Any], stream: bool = False) -> dict[str, Any]:
    return body_of(adapter.chat_request(body, CLAUDE, KEY, stream).body)


def test_it_posts_to_messages_with_its_key_and_api_version() -> None:
    request = adapter.chat_request({"messages": []}, CLAUDE, KEY, stream=False)
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers


@pytest.mark.parametrize("base", ["https://claude.internal", "https://claude.internal/v1/"])
def test_an_api_base_is_accepted_with_or_without_its_version(base: str) -> None:
    d = deployment("anthropic", "claude", api_base=base)
    assert adapter.chat_request({"messages": []}, d, KEY, False).url == (
        "https://claude.internal/v1/messages"
    )


def test_a_conversation_with_a_tool_round_trip_becomes_anthropic_turns() -> None:
    body = {
        "model": "smart",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                    },
                    {
                        "id": "toolu_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "24C"},
            {"role": "user", "content": "Thanks. Which is warmer?"},
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
    }
    assert sent(body) == {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 4096,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"location": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "get_weather",
                        "input": {"location": "Rome"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "24C"},
                    {"type": "text", "text": "Thanks. Which is warmer?"},
                ],
            },
        ],
        "tools": [
            {
                "name": "get_weather",
                "description": "Get the weather",
                "input_schema": WEATHER_TOOL["function"]["parameters"],  # type: ignore[index]
            }
        ],
        "tool_choice": {"type": "auto"},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice_maps_to_anthropics_names(choice: object, expected: dict[str, str]) -> None:
    body = {"messages": [], "tools": [WEATHER_TOOL], "tool_choice": choice}
    assert sent(body)["tool_choice"] == expected


def test_parallel_tool_calls_off_disables_parallel_tool_use() -> None:
    body = {"messages": [], "tools": [WEATHER_TOOL], "parallel_tool_calls": False}
    assert sent(body)["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_images_become_base64_or_url_sources() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    turn = sent({"messages": [{"role": "user", "content": content}]})["messages"][0]
    assert turn["content"] == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_sampling_limits_and_stops_are_translated() -> None:
    body = {
        "messages": [{"role": "user", "content": "Hi"}],
        "max_completion_tokens": 300,
        "max_tokens": 999,
        "temperature": 1.7,
        "top_p": 0.9,
        "stop": "END",
        "user": "u-42",
        "seed": 3,
    }
    out = sent(body, stream=True)
    assert out["max_tokens"] == 300
    assert out["temperature"] == 1.0, "OpenAI's 0-2 range is clamped to Anthropic's 0-1"
    assert out["top_p"] == 0.9
    assert out["stop_sequences"] == ["END"]
    assert out["metadata"] == {"user_id": "u-42"}
    assert out["stream"] is True
    assert "seed" not in out


def test_a_json_schema_response_format_becomes_an_instruction() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    body = {
        "messages": [{"role": "system", "content": "Count."}, {"role": "user", "content": "3"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    }
    system = sent(body)["system"]
    assert system.startswith("Count.\n\n")
    assert orjson.dumps(schema).decode() in system


def test_reasoning_effort_turns_on_extended_thinking_within_max_tokens() -> None:
    body = {"messages": [], "reasoning_effort": "high", "max_tokens": 8000, "temperature": 0.2}
    out = sent(body)
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 7999}
    assert "temperature" not in out


def test_a_role_anthropic_cannot_take_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        sent({"messages": [{"role": "function", "name": "f", "content": "x"}]})


def test_tool_arguments_that_are_not_json_are_refused() -> None:
    call = {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        sent({"messages": [{"role": "assistant", "content": None, "tool_calls": [call]}]})


def test_a_text_answer_becomes_a_chat_completion_with_cache_reads_counted_as_input() -> None:
    answer, usage = adapter.chat_response(fixture("anthropic_message.json"), "smart")
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "smart"
    assert answer["id"] == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    assert answer["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi! My name is Claude.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert usage == Usage(input_tokens=3895, output_tokens=503, cached_input_tokens=1800)
    assert answer["usage"]["prompt_tokens"] == 3895
    assert answer["usage"]["prompt_tokens_details"] == {"cached_tokens": 1800}


def test_a_tool_use_answer_becomes_tool_calls_with_json_string_arguments() -> None:
    answer, usage = adapter.chat_response(fixture("anthropic_tool_use.json"), "smart")
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == (
        "I'll check the current weather in San Francisco for you."
    )
    call = choice["message"]["tool_calls"][0]
    assert call["id"] == "toolu_01A09q90qw90lq917835lq9"
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {
        "location": "San Francisco, CA",
        "unit": "celsius",
    }
    assert usage == Usage(input_tokens=504, output_tokens=85, cache_write_input_tokens=120)


def test_a_stream_becomes_canonical_chunks_ending_with_usage() -> None:
    decoder = adapter.chat_stream("smart")
    chunks = decode(decoder, fixture("anthropic_stream.sse"))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert text_of_stream(chunks) == "Hello! Ça va ✓"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 1025
    assert all(c["model"] == "smart" and c["id"].startswith("msg_1nZd") for c in chunks)
    assert decoder.usage == Usage(input_tokens=1025, output_tokens=15, cached_input_tokens=1000)


def test_a_streamed_tool_use_becomes_streamed_tool_calls() -> None:
    decoder = adapter.chat_stream("smart")
    chunks = decode(decoder, fixture("anthropic_tool_stream.sse"))
    assert text_of_stream(chunks) == "Okay, let's check the weather for San Francisco, CA:"
    calls = tool_calls_of_stream(chunks)
    assert calls == {
        0: {
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "name": "get_weather",
            "arguments": '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
        }
    }
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert decoder.usage == Usage(input_tokens=472, output_tokens=89)


def test_thinking_streams_as_reasoning_content_and_counts_as_reasoning_tokens() -> None:
    decoder = adapter.chat_stream("smart")
    chunks = decode(decoder, fixture("anthropic_thinking_stream.sse"))
    reasoning = "".join(
        c["choices"][0]["delta"].get("reasoning_content", "") for c in chunks if c["choices"]
    )
    assert reasoning == "27 * 453 = 12231"
    assert text_of_stream(chunks) == "12,231"
    assert decoder.usage == Usage(input_tokens=40, output_tokens=120, reasoning_tokens=100)


@pytest.mark.parametrize(
    "name", ["anthropic_stream.sse", "anthropic_tool_stream.sse", "anthropic_thinking_stream.sse"]
)
def test_a_stream_split_at_every_byte_decodes_the_same_as_whole(name: str) -> None:
    assert_same_at_every_split(lambda: AnthropicStreamDecoder("a"), fixture(name))


def test_an_overloaded_error_event_mid_stream_is_raised_as_a_529() -> None:
    decoder = adapter.chat_stream("a")
    with pytest.raises(UpstreamStreamError) as raised:
        decode(decoder, fixture("anthropic_stream_overloaded.sse"))
    assert raised.value.error.status == 529
    assert raised.value.error.message == "Overloaded"
    assert raised.value.error.retryable
    assert decoder.usage.input_tokens == 12, "usage so far survives the error"


def test_a_stream_without_message_stop_is_a_protocol_error() -> None:
    stream = fixture("anthropic_stream.sse")
    cut = stream[: stream.index(b"event: message_stop")]
    with pytest.raises(StreamProtocolError, match="message_stop"):
        decode(adapter.chat_stream("a"), cut)


def test_anthropic_has_no_embeddings() -> None:
    with pytest.raises(UnsupportedByProvider):
        adapter_for("anthropic").embeddings_request({"input": "x"}, CLAUDE, KEY)


# --- native passthrough ------------------------------------------------------


def test_an_anthropic_form_body_passes_through_with_only_the_model_replaced() -> None:
    native = native_adapter_for("anthropic", "anthropic")
    assert native is not None
    body = {
        "model": "smart",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Long doc", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
    }
    request = native.native_request(
        body, CLAUDE, KEY, stream=True, client_headers={"Anthropic-Beta": "files-api-2025-04-14"}
    )
    assert body_of(request.body) == {**body, "model": "claude-sonnet-4-20250514"}
    assert request.headers["anthropic-beta"] == "files-api-2025-04-14"
    assert request.headers["x-api-key"] == KEY
    assert request.url == "https://api.anthropic.com/v1/messages"


def test_no_native_passthrough_is_offered_across_formats() -> None:
    assert native_adapter_for("openai", "anthropic") is None
    assert native_adapter_for("anthropic", "openai") is None


def test_native_answers_and_streams_yield_their_usage() -> None:
    assert adapter.native_usage(fixture("anthropic_message.json")) == Usage(
        input_tokens=3895, output_tokens=503, cached_input_tokens=1800
    )
    stream = fixture("anthropic_tool_stream.sse")
    for at in range(len(stream) + 1):
        scanner = adapter.native_stream()
        scanner.feed(stream[:at])
        scanner.feed(stream[at:])
        scanner.close()
        assert scanner.usage == Usage(input_tokens=472, output_tokens=89)


def test_a_native_stream_cut_short_or_reporting_an_error_is_refused() -> None:
    stream = fixture("anthropic_stream.sse")
    scanner = adapter.native_stream()
    scanner.feed(stream[: stream.index(b"event: message_stop")])
    with pytest.raises(StreamProtocolError):
        scanner.close()
    with pytest.raises(UpstreamStreamError):
        adapter.native_stream().feed(fixture("anthropic_stream_overloaded.sse"))
