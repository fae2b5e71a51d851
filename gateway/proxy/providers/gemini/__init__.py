"""Google Gemini API (generativelanguage.googleapis.com), translated from canonical form.

`POST {api_base}/v1beta/models/{model}:generateContent`, or
`:streamGenerateContent?alt=sse` for a stream, with `x-goog-api-key`.
Embeddings use `:batchEmbedContents`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from gateway.proxy.errors import InvalidRequest, MalformedAnswer
from gateway.proxy.providers.base import JSON, UpstreamError, UpstreamRequest, Usage
from gateway.proxy.providers.common import (
    api_base,
    dumps,
    load_object,
    retry_after_seconds,
    upstream_error,
)
from gateway.proxy.providers.gemini.request import gemini_body
from gateway.proxy.providers.gemini.response import GeminiStreamDecoder, completion_of
from gateway.shared.snapshot import DeploymentEntry

DEFAULT_API_BASE = "https://generativelanguage.googleapis.com"
_VERSIONED = re.compile(r"/v\d+(alpha|beta)?$")
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GeminiAdapter:
    name = "gemini"
    native_format = "gemini"

    def _model_url(self, deployment: DeploymentEntry) -> str:
        base = api_base(deployment, DEFAULT_API_BASE)
        root = base if _VERSIONED.search(base) else base + "/v1beta"
        model = deployment["model"]
        path = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        return f"{root}/{quote(path, safe='/')}"

    def _headers(self, api_key: str) -> dict[str, str]:
        return {"content-type": "application/json", "x-goog-api-key": api_key}

    def chat_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str, stream: bool
    ) -> UpstreamRequest:
        url = self._model_url(deployment)
        url += ":streamGenerateContent?alt=sse" if stream else ":generateContent"
        payload = gemini_body(body, deployment["model"])
        return UpstreamRequest("POST", url, self._headers(api_key), dumps(payload), stream)

    def chat_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        return completion_of(load_object(payload), alias)

    def chat_stream(self, alias: str) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(alias)

    def embeddings_request(
        self, body: JSON, deployment: DeploymentEntry, api_key: str
    ) -> UpstreamRequest:
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise InvalidRequest("Gemini embeds text: 'input' must be strings.", param="input")
        model = deployment["model"]
        name = model if model.startswith("models/") else f"models/{model}"
        requests: list[JSON] = []
        for text in texts:
            entry: JSON = {"model": name, "content": {"parts": [{"text": text}]}}
            if body.get("dimensions") is not None:
                entry["outputDimensionality"] = body["dimensions"]
            requests.append(entry)
        url = self._model_url(deployment) + ":batchEmbedContents"
        return UpstreamRequest("POST", url, self._headers(api_key), dumps({"requests": requests}))

    def embeddings_response(self, payload: bytes, alias: str) -> tuple[JSON, Usage]:
        answer = load_object(payload)
        embeddings = answer.get("embeddings")
        if not isinstance(embeddings, list):
            raise MalformedAnswer("The provider's answer has no embeddings.")
        data = [
            {"object": "embedding", "index": i, "embedding": e.get("values", [])}
            for i, e in enumerate(embeddings)
            if isinstance(e, dict)
        ]
        # Gemini reports no token counts for embeddings: usage stays 0 and the
        # proxy keeps its own estimate.
        usage = Usage()
        return {
            "object": "list",
            "data": data,
            "model": alias,
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }, usage

    def error(
        self, status: int, payload: bytes, headers: Mapping[str, str], api_key: str = ""
    ) -> UpstreamError:
        delay = retry_after_seconds(headers)
        if delay is None:
            delay = _retry_delay(payload)
        return upstream_error(status, payload, headers, api_key, delay)


def _retry_delay(payload: bytes) -> float | None:
    """Read google.rpc.RetryInfo.retryDelay ("32s") from an error's details."""
    try:
        answer = load_object(payload)
    except MalformedAnswer:
        return None
    error = answer.get("error")
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DELAY.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None
