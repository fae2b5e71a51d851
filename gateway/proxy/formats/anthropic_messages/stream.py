"""Canonical chunks -> the Anthropic Messages event stream, event for event.

message_start, then for each content block content_block_start,
content_block_delta (text_delta or input_json_delta), content_block_stop,
and at the end message_delta (stop_reason, usage) and message_stop. Usage
is only known at the end of a canonical stream, so message_start carries
zeros and message_delta the cumulative counts, input ones included (the
Anthropic SDK takes them from there).
"""

from __future__ import annotations

import orjson

from gateway.proxy.formats.anthropic_messages.response import (
    STOP_REASONS,
    anthropic_usage,
    error_body,
)
from gateway.proxy.providers.base import JSON, Usage
from gateway.proxy.providers.common import usage_from_openai


def encode_event(name: str, data: JSON) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicStreamEncoder:
    """Encode one canonical stream for an Anthropic-form client."""

    __slots__ = (
        "_alias",
        "_block",
        "_block_kind",
        "_blocks",
        "_finish",
        "_started",
        "_tools",
        "_usage",
    )

    def __init__(self, alias: str) -> None:
        self._alias = alias
        self._started = False
        self._blocks = 0  # content blocks opened so far
        self._block: int | None = None  # the open block's index
        self._block_kind = ""
        self._tools: dict[int, int] = {}  # canonical tool-call index -> block index
        self._finish: str | None = None
        self._usage = Usage()

    def encode(self, chunk: JSON) -> bytes:
        out: list[bytes] = []
        if not self._started:
            self._start(str(chunk.get("id") or ""), out)
        usage = chunk.get("usage")
        if usage is not None:
            self._usage.merge_max(usage_from_openai(usage))
        choices = chunk.get("choices")
        if choices:
            choice = choices[0]
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                if self._block_kind != "text":
                    self._open({"type": "text", "text": ""}, "text", out)
                out.append(self._delta({"type": "text_delta", "text": text}))
            for call in delta.get("tool_calls") or ():
                self._tool_call(call, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return b"".join(out)

    def finish(self, usage: Usage) -> bytes:
        out: list[bytes] = []
        if not self._started:
            self._start("", out)
        self._close(out)
        self._usage.merge_max(usage)
        reason = STOP_REASONS.get(self._finish or "stop", "end_turn")
        out.append(
            encode_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reason, "stop_sequence": None},
                    "usage": anthropic_usage(self._usage),
                },
            )
        )
        out.append(encode_event("message_stop", {"type": "message_stop"}))
        return b"".join(out)

    def error(self, message: str) -> bytes:
        """Return an `error` event: the Anthropic SDK raises on it."""
        return encode_event("error", error_body(message))

    def _start(self, id: str, out: list[bytes]) -> None:
        self._started = True
        message: JSON = {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": self._alias,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        out.append(encode_event("message_start", {"type": "message_start", "message": message}))

    def _open(self, block: JSON, kind: str, out: list[bytes]) -> int:
        self._close(out)
        index = self._blocks
        self._blocks += 1
        self._block = index
        self._block_kind = kind
        out.append(
            encode_event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        return index

    def _close(self, out: list[bytes]) -> None:
        if self._block is not None:
            out.append(
                encode_event(
                    "content_block_stop", {"type": "content_block_stop", "index": self._block}
                )
            )
            self._block = None
            self._block_kind = ""

    def _delta(self, delta: JSON, index: int | None = None) -> bytes:
        return encode_event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": self._block if index is None else index,
                "delta": delta,
            },
        )

    def _tool_call(self, call: JSON, out: list[bytes]) -> None:
        position = call.get("index", 0)
        function = call.get("function") or {}
        index = self._tools.get(position)
        if index is None:
            block = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{position}",
                "name": function.get("name", ""),
                "input": {},
            }
            index = self._open(block, "tool_use", out)
            self._tools[position] = index
        arguments = function.get("arguments")
        if arguments:
            out.append(self._delta({"type": "input_json_delta", "partial_json": arguments}, index))
