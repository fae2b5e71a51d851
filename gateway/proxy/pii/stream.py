"""Rewrite the client's SSE with carry-over windows (gateway.proxy.pii.window).

OpenAIStreamRewriter and AnthropicStreamRewriter apply windows to the SSE the
proxy sends a client (translated or natively passed through): text deltas
and tool-call argument deltas are rewritten, everything else (framing, usage,
the cost comment) passes byte for byte; a window is flushed before its
choice finishes or its content block stops, and before the stream ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.proxy.errors import PiiScanFailed
from gateway.proxy.pii.answer_fields import (
    CHOICE_KEYS,
    DELTA_KEYS,
    DELTA_TEXT,
    EMPTY,
    OPAQUE_KEYS,
    UNSCANNED_BLOCKS,
    known_keys_only,
    unknown_shape,
)
from gateway.proxy.pii.content import scan_values
from gateway.proxy.pii.redactor import Redactor
from gateway.proxy.pii.window import Windows


class _Events:
    """Split SSE bytes into whole events (blank-line terminated), whatever the reads."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        events = buffer.split(b"\n\n")
        self._buffer = events.pop()
        return [event + b"\n\n" for event in events]

    def rest(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return rest


def _json(data: bytes) -> Any:
    """Parse an event's data; what cannot be read cannot be scanned, so it never goes on."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise PiiScanFailed("An event of the answer could not be read to scan it for PII.") from e


def _object(data: bytes) -> dict[str, Any]:
    """Parse an event's data that must be a JSON object; any other shape is refused unscanned."""
    value = _json(data)
    if not isinstance(value, dict):
        raise unknown_shape()
    return value


# Deltas that pass as they are: thinking the provider signs (a changed one breaks the
# signature), its signature, and citations of documents the prompt sent (already scanned).
_UNSCANNED_DELTAS = frozenset({"thinking_delta", "signature_delta", "citations_delta"})


def _fields(event: bytes) -> tuple[bytes, bytes | None]:
    """Return an event's name and its data (None when it has none, e.g. a comment)."""
    name = b""
    data: list[bytes] = []
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line.startswith(b"event:"):
            name = line[6:].strip()
    return name, (b"\n".join(data) if data else None)


class StreamRewriter:
    """Rewrite a client SSE stream; `feed` and `finish` return the bytes to send on."""

    def __init__(self, redactor: Redactor) -> None:
        self.windows = Windows(redactor)
        self._events = _Events()

    def feed(self, data: bytes) -> bytes:
        return b"".join(self._event(event) for event in self._events.feed(data))

    def finish(self) -> bytes:
        """The stream ends (cost comment, or broken off): flush every window first."""
        return self._flush_all() + self._events.rest()

    def _event(self, event: bytes) -> bytes:
        raise NotImplementedError

    def _flush_all(self) -> bytes:
        raise NotImplementedError

    def _scan(self, text: str) -> str:
        """Scan a whole string that arrives in one piece (not a delta of a longer text)."""
        return self.windows.redactor.redact(text, "answer")


class OpenAIStreamRewriter(StreamRewriter):
    """`data: {chat.completion.chunk}` events; windows per (choice, content | tool call)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(redactor)
        self._template: dict[str, Any] = {"object": "chat.completion.chunk"}

    def _event(self, event: bytes) -> bytes:
        _, data = _fields(event)
        if data is None:
            return event  # comments: keep-alives and the cost line
        if data == b"[DONE]":
            return self._flush_all() + event
        chunk = _object(data)
        if chunk.get("error") is not None:
            return self._flush_all() + event
        choices = chunk.get("choices")
        if not choices:
            return self._flush_all() + event  # the usage-only chunk comes after the text
        self._template = {
            key: chunk[key] for key in ("id", "object", "created", "model") if key in chunk
        }
        if not isinstance(choices, list):
            raise unknown_shape()
        changed = False
        for choice in choices:
            if not isinstance(choice, dict):
                raise unknown_shape()
            changed = self._choice(choice) or changed
        if not changed:
            return event
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def _choice(self, choice: dict[str, Any]) -> bool:
        known_keys_only(choice, CHOICE_KEYS)
        index = choice.get("index", 0)
        delta = choice.get("delta")
        changed = False
        if choice.get("logprobs") is not None:
            choice["logprobs"] = None
            changed = True
        if delta is None:
            return changed
        if not isinstance(delta, dict):
            raise unknown_shape()
        known_keys_only(delta, DELTA_KEYS)
        for field in DELTA_TEXT:
            text = delta.get(field)
            if isinstance(text, str) and text:
                delta[field] = self.windows.feed((index, field), text)
                changed = True
        calls = delta.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise unknown_shape()
        for call in calls or ():
            if not isinstance(call, dict):
                raise unknown_shape()
            function = call.get("function")
            arguments = function.get("arguments") if isinstance(function, dict) else None
            if isinstance(arguments, str) and arguments:
                assert function is not None
                key = (index, "tool", call.get("index", 0))
                function["arguments"] = self.windows.feed(key, arguments, json_escaped=True)
                changed = True
        legacy = delta.get("function_call")  # the tool call's form before tool_calls
        if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
            legacy["arguments"] = self.windows.feed(
                (index, "function_call"), legacy["arguments"], json_escaped=True
            )
            changed = True
        if choice.get("finish_reason"):
            # The choice ends here: what its windows hold goes out in this chunk.
            for key in [k for k in self.windows.open if k[0] == index]:
                rest = self.windows.flush(key)
                if rest:
                    _append_rest(delta, key, rest)
                    changed = True
        return changed

    def _flush_all(self) -> bytes:
        out: list[bytes] = []
        for key in list(self.windows.open):
            rest = self.windows.flush(key)
            if not rest:
                continue
            delta: dict[str, Any] = {}
            _append_rest(delta, key, rest)
            chunk = {
                **self._template,
                "choices": [{"index": key[0], "delta": delta, "finish_reason": None}],
            }
            out.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
        return b"".join(out)


def _append_rest(delta: dict[str, Any], key: tuple[Any, ...], rest: str) -> None:
    """Add what a window still held to `delta`, in the field the window was fed from."""
    field = key[1]
    if field == "tool":
        delta.setdefault("tool_calls", []).append(
            {"index": key[2], "function": {"arguments": rest}}
        )
    elif field == "function_call":
        legacy = delta.get("function_call")
        if not isinstance(legacy, dict):
            legacy = delta["function_call"] = {}
        legacy["arguments"] = (legacy.get("arguments") or "") + rest
    else:
        delta[field] = (delta.get(field) or "") + rest


def _anthropic_event(name: bytes, data: dict[str, Any]) -> bytes:
    return b"event: " + name + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicStreamRewriter(StreamRewriter):
    """Anthropic Messages events; one window per content block index."""

    _KINDS: dict[str, tuple[str, str]] = {
        "text_delta": ("text", "text"),
        "input_json_delta": ("partial_json", "json"),
    }

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(redactor)
        self._kind: dict[Any, str] = {}  # block index -> "text" | "json"

    def _event(self, event: bytes) -> bytes:
        name, data = _fields(event)
        if data is None or name in (b"ping",):
            return event
        body = _object(data)
        kind = body.get("type")
        if kind == "content_block_delta":
            return self._delta(name, body, event)
        if kind == "content_block_start":
            block = body.get("content_block")
            if not isinstance(block, dict):
                raise unknown_shape()
            block_type = block.get("type")
            if block_type == "text":
                if not block.get("text"):
                    return event
                self._kind[body.get("index")] = "text"
                block["text"] = self.windows.feed(body.get("index"), block["text"])
                return _anthropic_event(name or b"content_block_start", body)
            if block_type in UNSCANNED_BLOCKS:
                return event
            # A tool call's input given whole, a server tool's result...: scanned whole.
            scan_values(block, self._scan, skip=OPAQUE_KEYS)
            return _anthropic_event(name or b"content_block_start", body)
        if kind == "content_block_stop":
            return self._flush(body.get("index")) + event
        if kind in ("message_delta", "message_stop", "error") or name == b"error":
            return self._flush_all() + event
        if kind == "message_start":
            message = body.get("message")
            if isinstance(message, dict) and message.get("content") in EMPTY:
                return event  # as every stream starts: the content comes in blocks
            scan_values(message, self._scan, skip=OPAQUE_KEYS)
            return _anthropic_event(name or b"message_start", body)
        # An event type added since: whatever text it holds is scanned whole.
        scan_values(body, self._scan, skip=OPAQUE_KEYS)
        return _anthropic_event(name or str(kind).encode(), body)

    def _delta(self, name: bytes, body: dict[str, Any], event: bytes) -> bytes:
        delta = body.get("delta")
        if not isinstance(delta, dict):
            raise unknown_shape()
        kind_of_delta = str(delta.get("type"))
        found = self._KINDS.get(kind_of_delta)
        if found is None:
            if kind_of_delta in _UNSCANNED_DELTAS:
                return event
            # A delta this rewriter does not know may carry text: never forward it unscanned.
            raise unknown_shape()
        field, kind = found
        text = delta.get(field)
        if not isinstance(text, str) or not text:
            return event
        index = body.get("index")
        self._kind[index] = kind
        delta[field] = self.windows.feed(index, text, json_escaped=kind == "json")
        return _anthropic_event(name or b"content_block_delta", body)

    def _flush(self, index: Any) -> bytes:
        rest = self.windows.flush(index)
        if not rest:
            return b""
        kind = self._kind.get(index, "text")
        delta = (
            {"type": "text_delta", "text": rest}
            if kind == "text"
            else {"type": "input_json_delta", "partial_json": rest}
        )
        return _anthropic_event(
            b"content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )

    def _flush_all(self) -> bytes:
        return b"".join(self._flush(index) for index in list(self.windows.open))


RewriterFactory = Callable[[Redactor], StreamRewriter]
REWRITERS: dict[str, RewriterFactory] = {
    "openai": OpenAIStreamRewriter,
    "anthropic": AnthropicStreamRewriter,
}
