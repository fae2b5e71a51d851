"""TraceCapture: one request's trace, held in memory (bounded) until it is sealed.

The hooks are called where the bytes already are, so capturing costs a
reference, not a copy: the upstream stage hands over the request body it
built (`sent`) and a provider's error body (`failed`); the redact stage the
answer as the caller gets it, before any restore (`answer_bytes` for bytes
sent, `answer_value` for an answer it parsed, `streaming` first for a stream).

`payload()` writes the JSON {"request", "response", "truncated"} of
gateway.shared.traces.TracePayload. Each half is capped at PART_MAX_BYTES of
JSON: a longer half becomes a JSON string holding the first bytes of its
JSON text and CUT_MARKER (valid JSON still, plainly cut), and `truncated`
is true. Buffers never grow far past the cap, whatever the answer's size.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.providers.base import Usage
from gateway.proxy.trace.assemble import ASSEMBLERS, StreamAssembler
from gateway.shared.traces import PART_MAX_BYTES

CUT_MARKER = "…[cut: the trace keeps at most 256 KiB of JSON per half]"


def cut(part: bytes, limit: int = PART_MAX_BYTES) -> bytes:
    """Return the JSON string of `part`'s first bytes and CUT_MARKER, at most `limit` bytes."""
    keep = max(0, limit - len(CUT_MARKER.encode()) - 2)
    while True:
        text = part[:keep].decode("utf-8", "ignore") + CUT_MARKER
        encoded = orjson.dumps(text)
        if len(encoded) <= limit or keep == 0:
            return encoded
        # Escapes (quotes, backslashes, control characters) grew it: take fewer bytes.
        keep = max(0, keep - (len(encoded) - limit))


class TraceCapture:
    __slots__ = ("_answer", "_answer_size", "_stream", "error", "limit", "request", "value")

    def __init__(self, limit: int = PART_MAX_BYTES) -> None:
        self.limit = limit
        self.request: bytes | None = None  # the upstream body, JSON as sent
        self.error: Any = None  # the last provider error, {"error": {status, type, message}}
        self.value: Any = None  # an answer parsed and redacted without restore
        self._answer: list[bytes] = []  # a whole answer's bytes as sent, up to limit + 1
        self._answer_size = 0
        self._stream: StreamAssembler | None = None

    @property
    def kept(self) -> bool:
        """Whether there is a trace to keep: something was built for a provider."""
        return self.request is not None

    def sent(self, body: bytes) -> None:
        """The body of an upstream attempt; a later attempt's replaces it (failover)."""
        self.request = body
        self.error = None

    def failed(self, error: dict[str, Any]) -> None:
        """A provider's error, restated without secrets; the redact stage redacts its text."""
        self.error = {"error": error}

    def streaming(self, dialect: str) -> None:
        """The answer is a stream in the client's `dialect`; assemble it as it is sent."""
        self._stream = ASSEMBLERS[dialect](self.limit)

    def answer_bytes(self, data: bytes) -> None:
        """Bytes of the answer as the caller got them (a whole JSON body, or SSE)."""
        if not data:
            return
        if self._stream is not None:
            self._stream.feed(data)
            return
        if self._answer_size <= self.limit:  # past the cap it is cut anyway
            self._answer.append(data)
            self._answer_size += len(data)

    def answer_value(self, value: Any) -> None:
        """A whole answer as JSON, redacted without restore (restore_in_response on)."""
        self.value = value

    def payload(self, usage: Usage) -> tuple[bytes, bool]:
        """Return the trace's JSON and whether a half was cut.

        Raises ValueError or TypeError (orjson's errors) when a half cannot be
        written as JSON: the caller drops the trace as unserializable.
        """
        truncated = False
        request = self.request if self.request is not None else b"null"
        if len(request) > self.limit:
            request, truncated = cut(request, self.limit), True
        response = self._response(usage)
        if len(response) > self.limit:
            response, truncated = cut(response, self.limit), True
        elif self._stream is not None and self._stream.over:
            truncated = True
        flag = b"true" if truncated else b"false"
        payload = b'{"request":' + request + b',"response":' + response + b',"truncated":'
        return payload + flag + b"}", truncated

    def _response(self, usage: Usage) -> bytes:
        if self._stream is not None:
            used = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
            return orjson.dumps(self._stream.answer(used))
        if self.value is not None:
            return orjson.dumps(self.value)
        if self._answer:
            body = b"".join(self._answer)
            if self._answer_size > self.limit:
                return body  # longer than the cap: payload() cuts it to a string
            # As the caller got it; checked, since the trace must stay one JSON document.
            orjson.loads(body)
            return body
        if self.error is not None:
            return orjson.dumps(self.error)
        return b"null"
