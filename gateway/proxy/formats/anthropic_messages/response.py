"""Canonical chat.completion -> Anthropic `message`; usage and errors in Anthropic's shapes."""

from __future__ import annotations

from typing import TypedDict

import orjson

from gateway.proxy.providers.base import JSON, Usage
from gateway.proxy.providers.common import text_of, usage_from_openai

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


class AnthropicUsage(TypedDict):
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int


def anthropic_usage(usage: Usage) -> AnthropicUsage:
    """Write usage as Anthropic reports it: input_tokens excludes cache reads and writes."""
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_input_tokens
    return {
        "input_tokens": max(0, uncached),
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "cache_creation_input_tokens": usage.cache_write_input_tokens,
    }


def tool_input(arguments: object) -> JSON:
    """Parse a canonical tool call's JSON-string arguments; a model's broken JSON becomes {}."""
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments:
        try:
            value = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return {}
        if isinstance(value, dict):
            return value
    return {}


def from_openai_response(completion: JSON, alias: str) -> JSON:
    """Translate a canonical chat.completion into an Anthropic Messages `message`."""
    choices = completion.get("choices") or [{}]
    choice = choices[0]
    reply = choice.get("message") or {}
    content: list[JSON] = []
    text = text_of(reply.get("content"))
    if text:
        content.append({"type": "text", "text": text})
    for call in reply.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id", ""),
                "name": function.get("name", ""),
                "input": tool_input(function.get("arguments")),
            }
        )
    return {
        "id": completion.get("id", ""),
        "type": "message",
        "role": "assistant",
        "model": alias,
        "content": content,
        "stop_reason": STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": anthropic_usage(usage_from_openai(completion.get("usage"))),
    }


def error_body(message: str, type: str = "api_error") -> JSON:
    """Return Anthropic's error shape, which its SDK reads the message from."""
    return {"type": "error", "error": {"type": type, "message": message}}
