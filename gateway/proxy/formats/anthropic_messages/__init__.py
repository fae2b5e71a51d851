"""The Anthropic Messages client format (/v1/messages), to and from canonical form.

request.py: Anthropic request -> canonical chat request. response.py:
canonical chat.completion -> Anthropic message. stream.py: canonical chunks
-> Anthropic's SSE event sequence. AnthropicMessagesDialect bundles the three
the way the proxy's dialects do.
"""

from __future__ import annotations

from gateway.proxy.formats.anthropic_messages.request import to_openai_request
from gateway.proxy.formats.anthropic_messages.response import (
    anthropic_usage,
    error_body,
    from_openai_response,
)
from gateway.proxy.formats.anthropic_messages.stream import AnthropicStreamEncoder, encode_event
from gateway.proxy.providers.base import JSON

__all__ = [
    "AnthropicMessagesDialect",
    "AnthropicStreamEncoder",
    "anthropic_usage",
    "encode_event",
    "error_body",
    "from_openai_response",
    "to_openai_request",
]


class AnthropicMessagesDialect:
    name = "anthropic"

    def to_canonical(self, payload: JSON) -> JSON:
        return to_openai_request(payload)

    def from_canonical(self, response: JSON, alias: str) -> JSON:
        return from_openai_response(response, alias)

    def stream_encoder(self, payload: JSON, alias: str) -> AnthropicStreamEncoder:
        return AnthropicStreamEncoder(alias)
