"""The Anthropic Messages client format: to canonical and back, streams included."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.proxy.errors import InvalidRequest
from gateway.proxy.formats.anthropic_messages import (
    AnthropicMessagesDialect,
    AnthropicStreamEncoder,
    from_openai_response,
    to_openai_request,
)
from gateway.proxy.formats.sse import SSEParser
from gateway.proxy.providers.anthropic import AnthropicAdapter
from gateway.proxy.providers.anthropic.request import anthropic_body
from gateway.proxy.providers.base import Usage
from gateway.proxy.providers.gemini import GeminiAdapter
from gateway.proxy.providers.gemini.request import gemini_body
from gateway.proxy.providers.openai import OpenAIStreamDecoder
from tests.gateway.proxy.providers.wire import decode, fixture, fixture_json

JSON = dict[str, Any]

TOOL_CONVERSATION: JSON = {
    "model": "smart",
    "max_tokens": 1024,
    "system": "You are a weather bot.",
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C and sunny"},
                {"type": "text", "text": "And is that warm?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
                },
            ],
        },
    ],
    "tools": [
        {
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        }
    ],
    "tool_choice": {"type": "any"},
    "temperature": 0.5,
    "stop_sequences": ["###"],
    "metadata": {"user_id": "user-7"},
}


def test_an_anthropic_request_becomes_a_canonical_chat_request() -> None:
    canonical = to_openai_request({**TOOL_CONVERSATION, "stream": True})
    assert canonical == {
        "model": "smart",
        "messages": [
            {"role": "system", "content": "You are a weather bot."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "toolu_01",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_01", "content": "18C and sunny"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "And is that warm?"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
                ],
            },
        ],
        "max_completion_tokens": 1024,
        "temperature": 0.5,
        "stop": ["###"],
        "user": "user-7",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "parameters": TOOL_CONVERSATION["tools"][0]["input_schema"],
                },
            }
        ],
        "tool_choice": "required",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


PLAIN_CONVERSATION: JSON = {
    "model": "smart",
    "messages": [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi! How can I help?"},
        {"role": "user", "content": [{"type": "text", "text": "Tell me a joke."}]},
    ],
    "max_tokens": 256,
    "top_p": 0.9,
    "stream": True,
}


@pytest.mark.parametrize("body", [TOOL_CONVERSATION, PLAIN_CONVERSATION])
def test_a_request_survives_the_round_trip_through_canonical_form(body: JSON) -> None:
    stream = body.get("stream") is True
    assert anthropic_body(to_openai_request(body), "smart", stream) == body


def test_system_blocks_and_a_url_image_and_parallel_tool_use_translate() -> None:
    canonical = to_openai_request(
        {
            "model": "m",
            "max_tokens": 10,
            "system": [{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}
                    ],
                }
            ],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        }
    )
    assert canonical["messages"][0] == {
        "role": "system",
        "content": [{"type": "text", "text": "A"}],
    }
    assert canonical["messages"][1]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}
    ]
    assert canonical["tool_choice"] == "auto"
    assert canonical["parallel_tool_calls"] is False


def test_an_image_in_a_tool_result_travels_in_the_user_message_after_it() -> None:
    canonical = to_openai_request(
        {
            "model": "m",
            "max_tokens": 10,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": [
                                {"type": "text", "text": "chart:"},
                                {
                                    "type": "image",
                                    "source": {
                                        "type": "base64",
                                        "media_type": "image/png",
                                        "data": "AAA",
                                    },
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    )
    assert canonical["messages"] == [
        {"role": "tool", "tool_call_id": "t1", "content": [{"type": "text", "text": "chart:"}]},
        {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}],
        },
    ]


def test_a_server_tool_cannot_leave_anthropic() -> None:
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
    }
    with pytest.raises(InvalidRequest, match="only available on Anthropic"):
        to_openai_request(body)


def test_a_canonical_tool_call_answer_becomes_an_anthropic_message() -> None:
    completion = fixture_json("openai_tool_calls.json")
    assert from_openai_response(completion, "smart") == {
        "id": "chatcmpl-abc123",
        "type": "message",
        "role": "assistant",
        "model": "smart",
        "content": [
            {
                "type": "tool_use",
                "id": "call_abc123",
                "name": "get_current_weather",
                "input": {"location": "Boston, MA"},
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 82,
            "output_tokens": 17,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    }


def test_cached_prompt_tokens_are_reported_apart_from_uncached_ones() -> None:
    message = from_openai_response(fixture_json("openai_chat.json"), "smart")
    assert message["content"] == [{"type": "text", "text": "Hello! How can I assist you today?"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"] == {
        "input_tokens": 127,
        "output_tokens": 210,
        "cache_read_input_tokens": 1792,
        "cache_creation_input_tokens": 0,
    }


@pytest.mark.parametrize("name", ["anthropic_message.json", "anthropic_tool_use.json"])
def test_an_answer_survives_the_round_trip_through_canonical_form(name: str) -> None:
    original = fixture_json(name)
    completion, _ = AnthropicAdapter().chat_response(fixture(name), original["model"])
    assert from_openai_response(completion, original["model"]) == original


# --- streams ---------------------------------------------------------------


def events_of(wire: bytes) -> list[tuple[str, JSON]]:
    parser = SSEParser()
    events = parser.feed(wire) + parser.close()
    return [(e.event, orjson.loads(e.data)) for e in events]


def accumulate(events: list[tuple[str, JSON]]) -> JSON:
    """Rebuild the message from its events, the way the Anthropic SDK does."""
    message: JSON = {}
    partial: dict[int, str] = {}
    for name, data in events:
        assert data["type"] == name, "the event line names the data's type"
        if name == "message_start":
            message = data["message"]
        elif name == "content_block_start":
            assert data["index"] == len(message["content"])
            message["content"].append(dict(data["content_block"]))
        elif name == "content_block_delta":
            block = message["content"][data["index"]]
            delta = data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "content_block_stop":
            if data["index"] in partial:
                message["content"][data["index"]]["input"] = orjson.loads(partial[data["index"]])
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
    return message


def encode_all(chunks: list[JSON], usage: Usage, alias: str = "smart") -> bytes:
    encoder = AnthropicStreamEncoder(alias)
    return b"".join(encoder.encode(c) for c in chunks) + encoder.finish(usage)


def test_a_canonical_tool_call_stream_becomes_the_anthropic_event_sequence() -> None:
    decoder = OpenAIStreamDecoder("smart")
    chunks = decode(decoder, fixture("openai_tool_stream.sse"))
    events = events_of(encode_all(chunks, decoder.usage))
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 5,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert accumulate(events) == {
        "id": "chatcmpl-9l2",
        "type": "message",
        "role": "assistant",
        "model": "smart",
        "content": [
            {
                "type": "tool_use",
                "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
                "name": "get_weather",
                "input": {"location": "Paris, France"},
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 68,
            "output_tokens": 17,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    }


def test_a_canonical_text_stream_becomes_one_text_block_with_usage_at_the_end() -> None:
    decoder = OpenAIStreamDecoder("smart")
    chunks = decode(decoder, fixture("openai_stream.sse"))
    message = accumulate(events_of(encode_all(chunks, Usage())))
    assert message["content"] == [{"type": "text", "text": "Hello wörld! ✓"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["input_tokens"] == 176
    assert message["usage"]["cache_read_input_tokens"] == 1024


@pytest.mark.parametrize(
    "name", ["anthropic_stream.sse", "anthropic_tool_stream.sse", "anthropic_thinking_stream.sse"]
)
def test_a_stream_survives_the_round_trip_through_canonical_form(name: str) -> None:
    original = accumulate(events_of(fixture(name)))
    decoder = AnthropicAdapter().chat_stream(original["model"])
    chunks = decode(decoder, fixture(name))
    again = accumulate(events_of(encode_all(chunks, decoder.usage, original["model"])))
    # Thinking is signed for Anthropic alone and does not cross formats.
    original["content"] = [b for b in original["content"] if b["type"] != "thinking"]
    assert again["content"] == original["content"]
    assert again["stop_reason"] == original["stop_reason"]
    assert again["id"] == original["id"]
    assert again["usage"]["output_tokens"] == original["usage"]["output_tokens"]


def test_an_empty_stream_still_opens_and_closes_the_message() -> None:
    events = events_of(encode_all([], Usage(input_tokens=3)))
    assert [name for name, _ in events] == ["message_start", "message_delta", "message_stop"]
    assert events[1][1]["usage"]["input_tokens"] == 3


def test_a_broken_stream_ends_with_an_error_event_the_sdk_raises_on() -> None:
    events = events_of(AnthropicStreamEncoder("a").error("The provider's stream broke off."))
    assert events == [
        (
            "error",
            {
                "type": "error",
                "error": {"type": "api_error", "message": "The provider's stream broke off."},
            },
        )
    ]


def test_the_dialect_bundles_the_three_conversions() -> None:
    dialect = AnthropicMessagesDialect()
    assert dialect.to_canonical(TOOL_CONVERSATION)["tool_choice"] == "required"
    completion = fixture_json("openai_chat.json")
    assert dialect.from_canonical(completion, "a")["type"] == "message"
    assert isinstance(dialect.stream_encoder(TOOL_CONVERSATION, "a"), AnthropicStreamEncoder)


def test_an_anthropic_tool_conversation_reaches_gemini_with_its_results_matched() -> None:
    contents = gemini_body(to_openai_request(TOOL_CONVERSATION), "gemini-2.5-flash")["contents"]
    assert contents[1]["parts"][1] == {
        "functionCall": {"name": "get_weather", "args": {"location": "Paris"}}
    }
    assert contents[2]["parts"][0] == {
        "functionResponse": {"name": "get_weather", "response": {"result": "18C and sunny"}}
    }


def test_a_gemini_function_call_stream_reaches_an_anthropic_client_as_tool_use() -> None:
    decoder = GeminiAdapter().chat_stream("smart")
    chunks = decode(decoder, fixture("gemini_tool_stream.sse"))
    message = accumulate(events_of(encode_all(chunks, decoder.usage)))
    [block] = message["content"]
    assert block["type"] == "tool_use" and block["name"] == "get_weather"
    assert block["input"] == {"location": "Boston, MA", "unit": "celsius"}
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["input_tokens"] == 58
