"""Client dialects: the wire format a caller speaks, converted to and from canonical form.

Canonical form inside the proxy is OpenAI Chat Completions; the OpenAI
dialect is therefore (almost) identity, and the Anthropic dialect (for
/v1/messages) converts with gateway.proxy.formats.anthropic_messages.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from gateway.proxy.providers.base import Usage

JSON = dict[str, Any]


class StreamEncoder(Protocol):
    def encode(self, chunk: JSON) -> bytes:
        """Return the bytes to send the client for one canonical chunk (may be empty)."""
        ...

    def finish(self, usage: Usage) -> bytes:
        """Return the closing bytes of a stream that ended well."""
        ...

    def error(self, message: str) -> bytes:
        """Return an error event the SDKs raise on: a broken stream never looks complete."""
        ...


class Dialect(Protocol):
    name: str

    def to_canonical(self, payload: JSON) -> JSON: ...

    def from_canonical(self, response: JSON, alias: str) -> JSON: ...

    def stream_encoder(self, payload: JSON, alias: str) -> StreamEncoder: ...


def is_usage_only(chunk: JSON) -> bool:
    return not chunk.get("choices") and chunk.get("usage") is not None


class OpenAIStreamEncoder:
    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage

    def encode(self, chunk: JSON) -> bytes:
        # The proxy always asks providers for stream usage (it is billed on it);
        # the client sees the usage-only chunk only if it asked for one.
        if not self.include_usage and is_usage_only(chunk):
            return b""
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def finish(self, usage: Usage) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, message: str) -> bytes:
        body = {"error": {"message": message, "type": "upstream_error", "code": "stream_broken"}}
        return b"data: " + orjson.dumps(body) + b"\n\n"


class OpenAIDialect:
    name = "openai"

    def to_canonical(self, payload: JSON) -> JSON:
        return payload

    def from_canonical(self, response: JSON, alias: str) -> JSON:
        return response

    def stream_encoder(self, payload: JSON, alias: str) -> StreamEncoder:
        options = payload.get("stream_options")
        include = isinstance(options, dict) and options.get("include_usage") is True
        return OpenAIStreamEncoder(include_usage=include)


def _dialects() -> dict[str, Dialect]:
    from gateway.proxy.formats.anthropic_messages import AnthropicMessagesDialect

    return {"openai": OpenAIDialect(), "anthropic": AnthropicMessagesDialect()}


DIALECTS: dict[str, Dialect] = _dialects()
