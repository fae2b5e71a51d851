"""The OpenAI client stream: canonical chunks as `data: {json}\\n\\n`, closed by `data: [DONE]`.

Providers are always asked for stream usage (the proxy bills on it); the
usage-only chunk reaches a client only if its request said
`stream_options: {"include_usage": true}`, as OpenAI itself behaves.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.providers.base import JSON, Usage

DONE = b"data: [DONE]\n\n"


def wants_usage(body: JSON) -> bool:
    """Say whether an OpenAI-form request asked for the final usage chunk."""
    options: Any = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def is_usage_only(chunk: JSON) -> bool:
    """Say whether a canonical chunk is the usage-only one (no choices, a usage object)."""
    return not chunk.get("choices") and chunk.get("usage") is not None


def encode_chunk(chunk: JSON) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def encode_comment(text: str) -> bytes:
    """Return an SSE comment line (clients ignore it), e.g. the request's cost."""
    # A newline would end the comment and let the rest be read as a field.
    return b": " + text.replace("\r", " ").replace("\n", " ").encode() + b"\n\n"


def encode_error(message: str, type: str = "upstream_error", code: str | None = None) -> bytes:
    """Return the error event the OpenAI SDK raises on (`APIError`) mid-stream."""
    body = {"error": {"message": message, "type": type, "code": code, "param": None}}
    return b"data: " + orjson.dumps(body) + b"\n\n"


class OpenAIStreamEncoder:
    """Encode canonical chunks for an OpenAI-form client."""

    __slots__ = ("include_usage",)

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage

    def encode(self, chunk: JSON) -> bytes:
        if not self.include_usage and is_usage_only(chunk):
            return b""
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def finish(self, usage: Usage) -> bytes:
        return DONE

    def error(self, message: str) -> bytes:
        return encode_error(message, code="stream_broken")
