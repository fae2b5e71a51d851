"""Anthropic Messages answers and streams -> canonical chat.completion and chunks."""

from __future__ import annotations

import orjson

from gateway.proxy.errors import MalformedAnswer, StreamProtocolError, UpstreamStreamError
from gateway.proxy.formats.sse import SSEParser
from gateway.proxy.providers.base import JSON, UpstreamError, Usage
from gateway.proxy.providers.common import (
    as_int,
    chunk,
    error_text,
    now,
    openai_usage,
    scrub,
    usage_chunk,
)

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Error types Anthropic sends inside a stream, as the statuses it uses for them.
STREAM_ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def usage_of(usage: object) -> Usage:
    """Read Anthropic usage: its input_tokens excludes cache reads and writes, ours does not."""
    if not isinstance(usage, dict):
        return Usage()
    cache_read = as_int(usage.get("cache_read_input_tokens"))
    cache_write = as_int(usage.get("cache_creation_input_tokens"))
    details = usage.get("output_tokens_details")
    thinking = as_int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")) + cache_read + cache_write,
        output_tokens=as_int(usage.get("output_tokens")),
        cached_input_tokens=cache_read,
        reasoning_tokens=thinking,
        cache_write_input_tokens=cache_write,
    )


def completion_of(message: JSON, alias: str) -> tuple[JSON, Usage]:
    """Translate an Anthropic `message` into a canonical chat.completion."""
    content = message.get("content")
    if message.get("type") != "message" or not isinstance(content, list):
        raise MalformedAnswer("The provider's answer is not an Anthropic message.")
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[JSON] = []
    for block in content:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "thinking":
            thoughts.append(block.get("thinking", ""))
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {
                        "name": block.get("name", ""),
                        "arguments": orjson.dumps(block.get("input") or {}).decode(),
                    },
                }
            )
    reply: JSON = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        reply["tool_calls"] = calls
    if thoughts:
        reply["reasoning_content"] = "".join(thoughts)
    usage = usage_of(message.get("usage"))
    answer: JSON = {
        "id": message.get("id", ""),
        "object": "chat.completion",
        "created": now(),
        "model": alias,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(message.get("stop_reason") or "", "stop"),
            }
        ],
        "usage": openai_usage(usage),
    }
    return answer, usage


def stream_error(data: bytes) -> UpstreamStreamError:
    """Restate an `error` event of an Anthropic stream."""
    message, kind = error_text(data)
    return UpstreamStreamError(
        UpstreamError(
            status=STREAM_ERROR_STATUSES.get(kind or "", 500),
            message=scrub(message or "The provider reported an error mid-stream."),
            type=kind,
        )
    )


def _event(data: bytes) -> JSON:
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise StreamProtocolError("The provider sent an event that is not valid JSON.") from e
    if not isinstance(event, dict):
        raise StreamProtocolError("The provider sent an event that is not a JSON object.")
    return event


class AnthropicStreamDecoder:
    """Decode an Anthropic Messages event stream into canonical chunks."""

    __slots__ = ("_alias", "_created", "_done", "_id", "_sse", "_tool_index", "usage")

    def __init__(self, alias: str) -> None:
        self._alias = alias
        self._sse = SSEParser()
        self._id = ""
        self._created = 0
        self._done = False
        # Anthropic content-block index -> OpenAI tool-call index.
        self._tool_index: dict[int, int] = {}
        self.usage = Usage()

    def feed(self, data: bytes) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.feed(data):
            if not self._done:
                self._handle(event.event, event.data, out)
        return out

    def close(self) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.close():
            if not self._done:
                self._handle(event.event, event.data, out)
        if not self._done:
            raise StreamProtocolError("The provider's stream ended before message_stop.")
        return out

    def _chunk(self, delta: JSON, finish_reason: str | None = None) -> JSON:
        return chunk(self._id, self._created, self._alias, delta, finish_reason)

    def _handle(self, name: str, data: bytes, out: list[JSON]) -> None:
        if name == "ping":
            return
        if name == "error":
            raise stream_error(data)
        event = _event(data)
        kind = event.get("type")
        if kind == "content_block_delta":
            self._delta(event, out)
        elif kind == "content_block_start":
            self._block_start(event, out)
        elif kind == "message_start":
            message = event.get("message") or {}
            self._id = message.get("id", "")
            self._created = now()
            self.usage.merge_max(usage_of(message.get("usage")))
            out.append(self._chunk({"role": "assistant", "content": ""}))
        elif kind == "message_delta":
            self.usage.merge_max(usage_of(event.get("usage")))
            reason = (event.get("delta") or {}).get("stop_reason")
            if reason:
                out.append(self._chunk({}, FINISH_REASONS.get(reason, "stop")))
        elif kind == "message_stop":
            self._done = True
            out.append(usage_chunk(self._id, self._created, self._alias, self.usage))
        elif kind == "error":
            raise stream_error(data)
        # content_block_stop, ping and event types added later carry nothing for us.

    def _block_start(self, event: JSON, out: list[JSON]) -> None:
        block = event.get("content_block") or {}
        kind = block.get("type")
        if kind == "tool_use":
            index = len(self._tool_index)
            self._tool_index[as_int(event.get("index"))] = index
            call = {
                "index": index,
                "id": block.get("id", ""),
                "type": "function",
                "function": {"name": block.get("name", ""), "arguments": ""},
            }
            out.append(self._chunk({"tool_calls": [call]}))
        elif kind == "text" and block.get("text"):
            out.append(self._chunk({"content": block["text"]}))

    def _delta(self, event: JSON, out: list[JSON]) -> None:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            out.append(self._chunk({"content": delta.get("text", "")}))
        elif kind == "input_json_delta":
            fragment = delta.get("partial_json", "")
            index = self._tool_index.get(as_int(event.get("index")))
            if fragment and index is not None:
                call = {"index": index, "function": {"arguments": fragment}}
                out.append(self._chunk({"tool_calls": [call]}))
        elif kind == "thinking_delta":
            out.append(self._chunk({"reasoning_content": delta.get("thinking", "")}))


class AnthropicNativeScanner:
    """Read usage from an Anthropic stream forwarded byte for byte.

    Only message_start, message_delta, message_stop and error events are
    parsed; the many content_block_delta events are recognised by their
    `event:` line and skipped without touching their JSON.
    """

    __slots__ = ("_done", "_sse", "usage")

    def __init__(self) -> None:
        self._sse = SSEParser()
        self._done = False
        self.usage = Usage()

    def feed(self, data: bytes) -> None:
        for event in self._sse.feed(data):
            self._handle(event.event, event.data)

    def close(self) -> None:
        for event in self._sse.close():
            self._handle(event.event, event.data)
        if not self._done:
            raise StreamProtocolError("The provider's stream ended before message_stop.")

    def _handle(self, name: str, data: bytes) -> None:
        if name in ("content_block_delta", "content_block_start", "content_block_stop", "ping"):
            return
        if name == "error":
            raise stream_error(data)
        event = _event(data)
        kind = event.get("type")
        if kind == "message_start":
            self.usage.merge_max(usage_of((event.get("message") or {}).get("usage")))
        elif kind == "message_delta":
            self.usage.merge_max(usage_of(event.get("usage")))
        elif kind == "message_stop":
            self._done = True
        elif kind == "error":
            raise stream_error(data)
