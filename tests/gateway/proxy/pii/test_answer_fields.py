"""Every field of an answer that can hold text is scanned, or the answer goes no further.

Streams: a delta's refusal, reasoning and legacy function call have windows of
their own; a delta or choice field the rewriter does not know ends the stream
(PiiScanFailed) rather than passing on unscanned; Anthropic blocks that start
whole (a tool call's input, a server tool's result) are scanned whole. Whole
answers: a choice's fields beside `message` and the answer's own extra fields
are scanned. Schemas: example and default values are data, whatever their keys.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.proxy.errors import PiiScanFailed
from gateway.proxy.pii.content import redact_answer, redact_request
from gateway.proxy.pii.redactor import Redactor
from gateway.proxy.pii.stream import AnthropicStreamRewriter, OpenAIStreamRewriter
from tests.factories.pii import compiled_policy

POLICY = compiled_policy()
EMAIL = "alice.secret@example.com"


def _scan(text: str) -> str:
    return Redactor(POLICY).redact(text, "answer")


def _openai_stream(*chunks: dict[str, Any]) -> bytes:
    rewriter = OpenAIStreamRewriter(Redactor(POLICY))
    out = b"".join(rewriter.feed(b"data: " + orjson.dumps(c) + b"\n\n") for c in chunks)
    return out + rewriter.feed(b"data: [DONE]\n\n") + rewriter.finish()


def _chunk(choice: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}


@pytest.mark.parametrize("field", ["refusal", "reasoning_content", "reasoning", "content"], ids=str)
def test_every_text_field_of_a_delta_is_masked_even_split_across_chunks(field: str) -> None:
    head, tail = f"I won't write to {EMAIL}"[:20], f"I won't write to {EMAIL}"[20:]
    out = _openai_stream(
        _chunk({"index": 0, "delta": {field: head}, "finish_reason": None}),
        _chunk({"index": 0, "delta": {field: tail}, "finish_reason": "stop"}),
    )
    assert EMAIL.encode() not in out
    assert b"[EMAIL" in out


def test_the_legacy_function_call_arguments_are_masked() -> None:
    arguments = orjson.dumps({"to": EMAIL}).decode()
    out = _openai_stream(
        _chunk(
            {
                "index": 0,
                "delta": {"function_call": {"name": "send", "arguments": arguments}},
                "finish_reason": "function_call",
            }
        )
    )
    assert EMAIL.encode() not in out
    assert b'"name":"send"' in out


@pytest.mark.parametrize(
    "choice",
    [
        {"index": 0, "delta": {"audio": {"transcript": f"mail {EMAIL}"}}},
        {"index": 0, "text": f"write to {EMAIL}"},
        {"index": 0, "delta": {"tool_calls": [f"call {EMAIL}"]}},
        {"index": 0, "delta": {"tool_calls": {"0": EMAIL}}},
    ],
    ids=["audio-transcript", "choice-without-delta", "call-not-an-object", "calls-not-a-list"],
)
def test_a_field_the_rewriter_does_not_know_ends_the_stream(choice: dict[str, Any]) -> None:
    with pytest.raises(PiiScanFailed):
        _openai_stream(_chunk(choice))


def test_known_empty_fields_and_structural_words_pass_as_they_are() -> None:
    chunk = _chunk(
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": None,
        }
    )
    raw = b"data: " + orjson.dumps(chunk) + b"\n\n"
    rewriter = OpenAIStreamRewriter(Redactor(POLICY))
    assert rewriter.feed(raw) == raw


def _anthropic_stream(*events: dict[str, Any]) -> bytes:
    rewriter = AnthropicStreamRewriter(Redactor(POLICY))
    out = b"".join(
        rewriter.feed(b"event: " + e["type"].encode() + b"\ndata: " + orjson.dumps(e) + b"\n\n")
        for e in events
    )
    return out + rewriter.finish()


def test_a_tool_call_whose_input_starts_whole_is_masked() -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "send", "input": {"to": EMAIL}}
    out = _anthropic_stream(
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_stop", "index": 0},
    )
    assert EMAIL.encode() not in out
    assert b'"id":"toolu_1"' in out and b'"name":"send"' in out


def test_a_message_that_starts_with_content_is_masked() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "text", "text": f"hi {EMAIL}"}],
    }
    out = _anthropic_stream({"type": "message_start", "message": message})
    assert EMAIL.encode() not in out
    assert b'"model":"claude"' in out


def test_an_event_type_added_since_is_scanned_whole() -> None:
    out = _anthropic_stream({"type": "content_block_note", "note": f"see {EMAIL}"})
    assert EMAIL.encode() not in out


def test_signed_thinking_and_encrypted_results_pass_as_they_are() -> None:
    """Changing them breaks the client's next turn; the model only saw the redacted prompt."""
    thinking = {"type": "thinking", "thinking": "", "signature": "c2lnbmF0dXJl"}
    result = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [{"type": "web_search_result", "encrypted_content": "4111111111111111"}],
    }
    out = _anthropic_stream(
        {"type": "content_block_start", "index": 0, "content_block": thinking},
        {"type": "content_block_start", "index": 1, "content_block": result},
    )
    assert b"c2lnbmF0dXJl" in out and b"4111111111111111" in out


def test_a_whole_answer_scans_a_choice_without_a_message_and_extra_fields() -> None:
    answer = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "text": f"write to {EMAIL}", "finish_reason": "stop"}],
        "output_text": f"write to {EMAIL}",
    }
    out = orjson.dumps(redact_answer(answer, "openai", _scan))
    assert EMAIL.encode() not in out
    assert b'"model":"m"' in out


def test_a_whole_anthropic_answer_scans_fields_it_does_not_know() -> None:
    answer = {"id": "m", "type": "message", "content": [], "summary": f"to {EMAIL}"}
    out = orjson.dumps(redact_answer(answer, "anthropic", _scan))
    assert EMAIL.encode() not in out


def test_schema_examples_defaults_and_constants_are_data_whatever_their_keys() -> None:
    schema = {
        "type": "object",
        "properties": {
            "who": {"type": "object", "examples": [{"name": EMAIL}], "default": {"name": EMAIL}},
            "to": {"type": "string", "const": EMAIL},
        },
    }
    payload = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    redact_request(payload, "chat", "openai", _scan)
    assert EMAIL.encode() not in orjson.dumps(payload)
