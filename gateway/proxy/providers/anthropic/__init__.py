"""Anthropic Messages API: translated from canonical form, or passed through natively.

`POST {api_base}/v1/messages` with `x-api-key` and `anthropic-version`. An
Anthropic-form client request to an Anthropic deployment goes through
natively (NativePassthrough), so Anthropic-only fields (cache_control,
thinking, betas) survive; everything else is translated (request.py,
response.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.proxy.errors import UnsupportedByProvider
from gateway.proxy.providers.anthropic.request import anthropic_body
from gateway.proxy.providers.anthropic.response import (
    AnthropicNativeScanner,
    AnthropicStreamDecoder,
    completion_of,
    usage_of,
)
from gateway.proxy.providers.base import JSON, UpstreamError, UpstreamRequest, Usage
from gateway.proxy.providers.common import (
    api_base,
    dumps,
    header_value,
    load_object,
    upstream_error,
)
from gateway.shared.snapshot import DeploymentEntry

DEFAULT_API_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
# Client headers a native passthrough forwards: they select API behaviour, not identity.
FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")


class AnthropicAdapter:
    name = "anthropic"
    native_format = "anthropic"

    def _url(self, deployment: DeploymentEntry) -> str:
        base = api_base(deployment, DEFAULT_API_BASE)
        # Accept an api_base given with or without its version segment.
        return base + "/messages" if base.endswith("/v1") else base + "/v1/messages"

    def _headers(self, api_key: str, stream: bool) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
            "x-api-key": api_key,
            "anthropic-version": API_VERSION,
        }

    def chat_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str, stream: bool
    ) -> UpstreamRequest:
        payload = anthropic_body(body, deployment["model"], stream)
        return UpstreamRequest(
            "POST", self._url(deployment), self._headers(api_key, stream), dumps(payload), stream
        )

    def chat_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        return completion_of(load_object(payload), alias)

    def chat_stream(self, alias: str) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(alias)

    def embeddings_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str
    ) -> UpstreamRequest:
        raise UnsupportedByProvider("Anthropic offers no embeddings models.", param="model")

    def embeddings_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        raise UnsupportedByProvider("Anthropic offers no embeddings models.", param="model")

    def error(
        self, status: int, payload: bytes, headers: Mapping[str, str], api_key: str = ""
    ) -> UpstreamError:
        return upstream_error(status, payload, headers, api_key)

    # --- native passthrough ----------------------------------------------

    def native_request(
        self,
        body: JSON,
        deployment: DeploymentEntry,
        api_key: str,
        stream: bool,
        client_headers: Mapping[str, str] | None = None,
    ) -> UpstreamRequest:
        out = dict(body)
        out["model"] = deployment["model"]
        if stream:
            out["stream"] = True
        else:
            out.pop("stream", None)
        headers = self._headers(api_key, stream)
        for name in FORWARDED_HEADERS:
            value = header_value(client_headers or {}, name)
            if value:
                headers[name] = value
        return UpstreamRequest("POST", self._url(deployment), headers, dumps(out), stream)

    def native_usage(self, payload: bytes) -> Usage:
        return usage_of(load_object(payload).get("usage"))

    def native_stream(self) -> AnthropicNativeScanner:
        return AnthropicNativeScanner()
