"""The contract every provider adapter keeps, like an httpx transport: small and synchronous.

The proxy speaks one canonical form inside: OpenAI Chat Completions (request,
response and `chat.completion.chunk` stream events) and OpenAI Embeddings.
An adapter turns a canonical request into the provider's HTTP request and the
provider's answer back into canonical form, extracting token usage. Adapters
do no I/O: the upstream stage sends what they build with its one HTTP client,
so every adapter is tested on recorded wire formats without a network.

Streams: a decoder yields canonical chunks. Usage always travels upstream
(adapters ask for it) and reaches the decoder's `usage`; it is also handed on
as exactly one usage-only chunk, `{"choices": [], "usage": {...}}` (the shape
OpenAI uses for `stream_options.include_usage`), which the proxy forwards only
to a client that asked for it (`is_usage_only`). Content chunks never carry a
`usage` key.

Client-facing formats other than OpenAI (Anthropic Messages on /v1/messages)
are converted to and from canonical form in gateway.proxy.formats; when the
client's format is the adapter's native one, the proxy may pass the body
through instead (NativePassthrough): only the model is replaced, and usage is
scanned from the answer without changing a byte of it.

Usage semantics, the same for every provider: `input_tokens` counts every
prompt token, cached ones included (`cached_input_tokens` read from a cache,
`cache_write_input_tokens` written to one are subsets of it); `output_tokens`
counts every generated token, reasoning included (`reasoning_tokens` is a
subset of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.shared.snapshot import DeploymentEntry

JSON = dict[str, Any]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_input_tokens: int = 0

    def merge_max(self, other: Usage) -> None:
        """Keep the larger of each count: providers repeat cumulative usage in streams."""
        self.input_tokens = max(self.input_tokens, other.input_tokens)
        self.output_tokens = max(self.output_tokens, other.output_tokens)
        self.cached_input_tokens = max(self.cached_input_tokens, other.cached_input_tokens)
        self.reasoning_tokens = max(self.reasoning_tokens, other.reasoning_tokens)
        self.cache_write_input_tokens = max(
            self.cache_write_input_tokens, other.cache_write_input_tokens
        )


@dataclass
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool = False


# A provider's answers after which the same request may succeed at another
# deployment or later (timeout, conflict, too early, rate limit), with every 5xx
# (529: Anthropic overloaded): they fail over AND count against the deployment's
# health, the same for a request's failover and for a health ping.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
# A refused key (401, 403) is the deployment's key, not its service: the
# request fails over (the next deployment may hold another key), but the
# refusal says nothing about the deployment's health: the breaker ignores it
# (routing.failover NEUTRAL_OUTCOMES) and a ping reports it as ours to fix.
KEY_REFUSED_STATUSES = frozenset({401, 403})


def is_retryable(status: int) -> bool:
    """Whether another deployment, or a later try, may answer what this status refused."""
    return status >= 500 or status in RETRYABLE_STATUSES


@dataclass
class UpstreamError:
    """A provider's error, restated without anything secret (keys, auth headers)."""

    status: int
    message: str
    retry_after_s: float | None = None
    # The provider's own error class ("rate_limit_error", "RESOURCE_EXHAUSTED",
    # "context_length_exceeded"...), for logs and metrics; never shown verbatim as ours.
    type: str | None = None

    @property
    def retryable(self) -> bool:
        return is_retryable(self.status)


class StreamDecoder(Protocol):
    """Turns a provider's streamed bytes into canonical chunks as they arrive."""

    usage: Usage

    def feed(self, data: bytes) -> list[JSON]:
        """Take the next bytes (any split, even mid-line); return the complete chunks so far."""
        ...

    def close(self) -> list[JSON]:
        """End of stream; return what is left. Raise StreamProtocolError on a malformed stream."""
        ...


class NativeStreamScanner(Protocol):
    """Reads usage from a natively passed-through stream; the bytes go on unchanged."""

    usage: Usage

    def feed(self, data: bytes) -> None:
        """Take the next bytes (any split); raise UpstreamStreamError on an error event."""
        ...

    def close(self) -> None:
        """End of stream; raise StreamProtocolError if it stopped before its terminal event."""
        ...


class ProviderAdapter(Protocol):
    name: str
    # "openai" | "anthropic" | "gemini": the wire format the provider speaks.
    native_format: str

    def chat_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str, stream: bool
    ) -> UpstreamRequest:
        """Build the upstream request for a canonical chat request (model already the alias)."""
        ...

    def chat_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        """Turn a successful non-streamed answer into a canonical chat.completion."""
        ...

    def chat_stream(self, alias: str) -> StreamDecoder:
        """Return a decoder for this provider's streamed answer to one request."""
        ...

    def embeddings_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str
    ) -> UpstreamRequest:
        """Build the upstream request for a canonical embeddings request."""
        ...

    def embeddings_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        """Turn a successful embeddings answer into the OpenAI `list` of embeddings."""
        ...

    def error(
        self, status: int, payload: bytes, headers: Mapping[str, str], api_key: str = ""
    ) -> UpstreamError:
        """Restate a provider's error answer (4xx/5xx) for the client, scrubbed of `api_key`."""
        ...


class NativePassthrough(Protocol):
    """An adapter that can forward a body in its own wire format, changing only the model."""

    native_format: str

    def native_request(
        self,
        body: JSON,
        deployment: DeploymentEntry,
        api_key: str,
        stream: bool,
        client_headers: Mapping[str, str] | None = None,
    ) -> UpstreamRequest:
        """Build the upstream request from a client body already in the native format."""
        ...

    def native_usage(self, payload: bytes) -> Usage:
        """Read usage from a non-streamed native answer (forwarded as is)."""
        ...

    def native_stream(self) -> NativeStreamScanner:
        """Return a scanner for a native stream that is forwarded byte for byte."""
        ...
