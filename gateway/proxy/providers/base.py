"""The contract every provider adapter keeps, like an httpx transport: small and synchronous.

The proxy speaks one canonical form inside: OpenAI Chat Completions (request,
response and `chat.completion.chunk` stream events) and OpenAI Embeddings.
An adapter turns a canonical request into the provider's HTTP request and the
provider's answer back into canonical form, extracting token usage. Adapters
do no I/O: the upstream stage sends what they build with its one HTTP client,
so every adapter is tested on recorded wire formats without a network.

Client-facing formats other than OpenAI (Anthropic Messages on /v1/messages)
are converted to and from canonical form in gateway.proxy.formats; when the
client's format is the adapter's native one (`native_format`), the proxy may
pass the body through natively instead (see ProviderAdapter.native_*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.proxy.snapshot import DeploymentEntry

JSON = dict[str, Any]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    def merge_max(self, other: Usage) -> None:
        """Keep the larger of each count: providers repeat cumulative usage in streams."""
        self.input_tokens = max(self.input_tokens, other.input_tokens)
        self.output_tokens = max(self.output_tokens, other.output_tokens)
        self.cached_input_tokens = max(self.cached_input_tokens, other.cached_input_tokens)
        self.reasoning_tokens = max(self.reasoning_tokens, other.reasoning_tokens)


@dataclass
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool = False


@dataclass
class UpstreamError:
    """A provider's error, restated without anything secret (keys, auth headers)."""

    status: int
    message: str
    retry_after_s: float | None = None


class StreamDecoder(Protocol):
    """Turns a provider's streamed bytes into canonical chunks as they arrive."""

    usage: Usage

    def feed(self, data: bytes) -> list[JSON]:
        """Take the next bytes (any split, even mid-line); return the complete chunks so far."""
        ...

    def close(self) -> list[JSON]:
        """End of stream; return what is left. Raise StreamProtocolError on a malformed stream."""
        ...


class StreamProtocolError(Exception):
    """The provider sent a stream we cannot parse (malformed chunk, cut mid-event)."""


@dataclass
class NativeUsageScanner:
    """Collects usage from a natively passed-through stream without changing its bytes."""

    usage: Usage = field(default_factory=Usage)


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
        """A decoder for this provider's streamed answer to one request."""
        ...

    def embeddings_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str
    ) -> UpstreamRequest: ...

    def embeddings_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]: ...

    def error(self, status: int, payload: bytes, headers: dict[str, str]) -> UpstreamError:
        """Restate a provider's error answer (4xx/5xx) for the client."""
        ...
