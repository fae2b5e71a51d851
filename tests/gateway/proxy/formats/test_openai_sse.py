"""The OpenAI client stream: chunks framed as SSE, usage only for clients that asked."""

from __future__ import annotations

import orjson

from gateway.proxy.formats.openai_sse import (
    DONE,
    OpenAIStreamEncoder,
    encode_chunk,
    encode_comment,
    encode_error,
    wants_usage,
)
from gateway.proxy.formats.sse import SSEParser
from gateway.proxy.providers.base import Usage
from gateway.proxy.providers.openai import OpenAIStreamDecoder
from tests.gateway.proxy.providers.wire import decode, fixture

CONTENT = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "a",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}
USAGE = {**CONTENT, "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}


def test_a_chunk_is_one_data_line_and_a_blank_line() -> None:
    encoded = encode_chunk(CONTENT)
    assert encoded.startswith(b"data: ") and encoded.endswith(b"\n\n")
    assert encoded.count(b"\n") == 2
    assert orjson.loads(encoded[6:]) == CONTENT


def test_a_client_that_did_not_ask_for_usage_never_sees_the_usage_chunk() -> None:
    encoder = OpenAIStreamEncoder(include_usage=False)
    assert encoder.encode(USAGE) == b""
    assert encoder.encode(CONTENT) == encode_chunk(CONTENT)
    assert encoder.finish(Usage()) == DONE == b"data: [DONE]\n\n"


def test_a_client_that_asked_for_usage_gets_the_usage_chunk() -> None:
    assert OpenAIStreamEncoder(include_usage=True).encode(USAGE) == encode_chunk(USAGE)


def test_include_usage_is_read_from_the_clients_stream_options() -> None:
    assert wants_usage({"stream_options": {"include_usage": True}})
    assert not wants_usage({"stream_options": {"include_usage": False}})
    assert not wants_usage({"stream": True})
    assert not wants_usage({"stream_options": "yes"})


def test_a_provider_stream_re_encoded_parses_back_to_the_same_chunks() -> None:
    chunks = decode(OpenAIStreamDecoder("a"), fixture("openai_stream.sse"))
    encoder = OpenAIStreamEncoder(include_usage=True)
    wire = b"".join(encoder.encode(c) for c in chunks) + encoder.finish(Usage())
    again = decode(OpenAIStreamDecoder("a"), wire)
    assert again == chunks


def test_an_error_event_is_the_shape_the_openai_sdk_raises_on() -> None:
    events = SSEParser().feed(encode_error("broke", code="stream_broken"))
    assert orjson.loads(events[0].data) == {
        "error": {
            "message": "broke",
            "type": "upstream_error",
            "code": "stream_broken",
            "param": None,
        }
    }


def test_a_comment_cannot_smuggle_a_field_through_a_newline() -> None:
    encoded = encode_comment("cost=0.01\ndata: evil")
    assert SSEParser().feed(encoded) == []
    assert encoded == b": cost=0.01 data: evil\n\n"
