"""OpenAI and every server that speaks its Chat Completions API (vLLM, Ollama, Mistral, Groq...).

Canonical form is OpenAI's, so requests pass through almost unchanged: the
model is replaced, fields we do not know (`response_format`, `seed`,
`logprobs`, `parallel_tool_calls`...) are kept, and streams ask for usage.
The flavours differ only in their public endpoint and in two dialect quirks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from gateway.proxy.errors import MalformedAnswer, StreamProtocolError, UpstreamStreamError
from gateway.proxy.formats.sse import SSEParser
from gateway.proxy.providers.base import JSON, UpstreamError, UpstreamRequest, Usage
from gateway.proxy.providers.common import (
    api_base,
    dumps,
    load_object,
    upstream_error,
    usage_from_openai,
)
from gateway.shared.snapshot import DeploymentEntry


@dataclass(frozen=True)
class Flavor:
    name: str
    default_api_base: str | None
    # Accepts `stream_options: {"include_usage": true}`; the others report
    # usage on their last chunk unasked (Mistral refuses unknown fields).
    stream_usage_option: bool = True
    # Understands `max_completion_tokens` (OpenAI's name since the o1 models);
    # for the others it is renamed to the `max_tokens` they know.
    max_completion_tokens: bool = True
    # OpenAI bills a request that names no tier (or "auto") at the tier its
    # project defaults to, which may be priority: the reservation priced it at
    # the standard rate (pricing.request_terms), so such a request is sent as
    # "default", the standard tier. Asking for "priority" is priced as such.
    pins_standard_tier: bool = False


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        Flavor("openai", "https://api.openai.com/v1", pins_standard_tier=True),
        # No public endpoint: the deployment must name its api_base.
        Flavor("openai_compatible", None, max_completion_tokens=False),
        Flavor("mistral", "https://api.mistral.ai/v1", False, False),
        Flavor("groq", "https://api.groq.com/openai/v1"),
        Flavor("deepseek", "https://api.deepseek.com/v1", max_completion_tokens=False),
        Flavor("xai", "https://api.x.ai/v1"),
        Flavor("together", "https://api.together.xyz/v1", max_completion_tokens=False),
        Flavor("vllm", "http://localhost:8000/v1"),
        Flavor("ollama", "http://localhost:11434/v1", max_completion_tokens=False),
    )
}


class OpenAIAdapter:
    """One adapter for the whole OpenAI-compatible family, parameterised by flavour."""

    native_format = "openai"

    def __init__(self, flavor: Flavor) -> None:
        self.flavor = flavor
        self.name = flavor.name

    # --- requests ---------------------------------------------------------

    def _headers(self, api_key: str) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        # Local servers (Ollama, vLLM) often run without a key.
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        return headers

    def chat_url(self, deployment: DeploymentEntry) -> str:
        return api_base(deployment, self.flavor.default_api_base) + "/chat/completions"

    def embeddings_url(self, deployment: DeploymentEntry) -> str:
        return api_base(deployment, self.flavor.default_api_base) + "/embeddings"

    def chat_body(self, body: JSON, deployment: DeploymentEntry, stream: bool) -> JSON:
        """Return the upstream body: the client's, with the model, stream and dialect set."""
        out = dict(body)
        out["model"] = deployment["model"]
        if stream:
            out["stream"] = True
            if self.flavor.stream_usage_option:
                options = out.get("stream_options")
                out["stream_options"] = {
                    **(options if isinstance(options, dict) else {}),
                    "include_usage": True,
                }
        else:
            out.pop("stream", None)
            out.pop("stream_options", None)  # OpenAI refuses it on a non-streamed request
        # null too: OpenAI reads it as "auto".
        if self.flavor.pins_standard_tier and out.get("service_tier") in (None, "auto"):
            out["service_tier"] = "default"
        if not self.flavor.max_completion_tokens and "max_completion_tokens" in out:
            limit = out.pop("max_completion_tokens")
            out.setdefault("max_tokens", limit)
        return out

    def chat_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str, stream: bool
    ) -> UpstreamRequest:
        headers = self._headers(api_key)
        if stream:
            headers["accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST",
            self.chat_url(deployment),
            headers,
            dumps(self.chat_body(body, deployment, stream)),
            stream,
        )

    def embeddings_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str
    ) -> UpstreamRequest:
        out = dict(body)
        out["model"] = deployment["model"]
        return UpstreamRequest(
            "POST", self.embeddings_url(deployment), self._headers(api_key), dumps(out)
        )

    # --- answers ----------------------------------------------------------

    def chat_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        answer = load_object(payload)
        if not isinstance(answer.get("choices"), list):
            raise MalformedAnswer("The provider's chat answer has no 'choices'.")
        answer["model"] = alias
        return answer, usage_from_openai(answer.get("usage"))

    def chat_stream(self, alias: str) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder(alias)

    def embeddings_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        answer = load_object(payload)
        if not isinstance(answer.get("data"), list):
            raise MalformedAnswer("The provider's embeddings answer has no 'data'.")
        answer["model"] = alias
        return answer, usage_from_openai(answer.get("usage"))

    def error(
        self, status: int, payload: bytes, headers: Mapping[str, str], api_key: str = ""
    ) -> UpstreamError:
        return upstream_error(status, payload, headers, api_key)


class OpenAIStreamDecoder:
    """Decode an OpenAI-style SSE stream; chunks stay as the provider sent them but for `model`.

    Usage is normalised to the one usage-only chunk: providers that put it on
    their last content chunk (Mistral, Together; Groq under `x_groq`) have it
    moved to a usage-only chunk of its own, sent when `[DONE]` arrives.
    """

    __slots__ = ("_alias", "_done", "_last", "_moved_usage", "_sse", "usage")

    def __init__(self, alias: str) -> None:
        self._alias = alias
        self._sse = SSEParser()
        self._done = False
        self._moved_usage: JSON | None = None
        self._last: JSON | None = None
        self.usage = Usage()

    def feed(self, data: bytes) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.feed(data):
            if not self._done:
                self._event(event.data, out)
        return out

    def close(self) -> list[JSON]:
        out: list[JSON] = []
        for event in self._sse.close():
            if not self._done:
                self._event(event.data, out)
        if not self._done:
            raise StreamProtocolError("The provider's stream ended before [DONE].")
        return out

    def _event(self, data: bytes, out: list[JSON]) -> None:
        if data == b"[DONE]":
            self._done = True
            if self._moved_usage is not None and self._last is not None:
                out.append(
                    {
                        "id": self._last.get("id"),
                        "object": "chat.completion.chunk",
                        "created": self._last.get("created"),
                        "model": self._alias,
                        "choices": [],
                        "usage": self._moved_usage,
                    }
                )
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise StreamProtocolError("The provider sent a chunk that is not valid JSON.") from e
        if not isinstance(chunk, dict):
            raise StreamProtocolError("The provider sent a chunk that is not a JSON object.")
        if chunk.get("error") is not None:
            raise UpstreamStreamError(upstream_error(500, data, {}, ""))
        usage = chunk.pop("usage", None)
        if usage is None:
            extra = chunk.get("x_groq")
            if isinstance(extra, dict):
                usage = extra.get("usage")
        chunk["model"] = self._alias
        if isinstance(usage, dict):
            self.usage.merge_max(usage_from_openai(usage))
            if chunk.get("choices"):
                self._moved_usage = usage
            else:
                chunk["usage"] = usage
                self._moved_usage = None
        self._last = chunk
        out.append(chunk)
