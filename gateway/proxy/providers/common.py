"""What every adapter shares: URLs, JSON in and out, usage shapes, error restating, data URLs."""

from __future__ import annotations

import base64
import email.utils
import math
import re
import struct
import time
from collections.abc import Mapping
from typing import Any, TypedDict

import orjson

from gateway.proxy.errors import InvalidRequest, MalformedAnswer, MisconfiguredDeployment
from gateway.proxy.providers.base import JSON, UpstreamError, Usage
from gateway.shared.snapshot import DeploymentEntry

# A provider's error message is restated to the client: keep it readable, and
# never let an upstream push a megabyte of text through us.
MAX_ERROR_MESSAGE = 500


def api_base(deployment: DeploymentEntry, default: str | None) -> str:
    """Return the deployment's base URL, or the provider's public one, without a trailing '/'."""
    base = deployment.get("api_base") or default
    if not base:
        raise MisconfiguredDeployment(
            f"Deployment {deployment['id']} ({deployment['provider']}) needs an api_base."
        )
    return base.rstrip("/")


def dumps(value: object) -> bytes:
    return orjson.dumps(value)


def load_object(payload: bytes) -> JSON:
    """Parse a provider's JSON object, or raise MalformedAnswer."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise MalformedAnswer("The provider's answer is not valid JSON.") from e
    if not isinstance(value, dict):
        raise MalformedAnswer("The provider's answer is not a JSON object.")
    return value


def now() -> int:
    return int(time.time())


def as_int(value: object) -> int:
    """Read a token count; absent, null or nonsense counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- usage ----------------------------------------------------------------


class PromptTokensDetails(TypedDict, total=False):
    cached_tokens: int
    cache_write_tokens: int


class CompletionTokensDetails(TypedDict):
    reasoning_tokens: int


class OpenAIUsage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails
    completion_tokens_details: CompletionTokensDetails


def usage_from_openai(usage: object) -> Usage:
    """Read an OpenAI `usage` object (its counts already follow our semantics)."""
    if not isinstance(usage, dict):
        return Usage()
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    prompt = prompt if isinstance(prompt, dict) else {}
    completion = completion if isinstance(completion, dict) else {}
    return Usage(
        input_tokens=as_int(usage.get("prompt_tokens")),
        output_tokens=as_int(usage.get("completion_tokens")),
        cached_input_tokens=as_int(prompt.get("cached_tokens")),
        reasoning_tokens=as_int(completion.get("reasoning_tokens")),
        cache_write_input_tokens=as_int(prompt.get("cache_write_tokens")),
    )


def openai_usage(usage: Usage) -> OpenAIUsage:
    """Write usage as OpenAI reports it, details included."""
    details: PromptTokensDetails = {"cached_tokens": usage.cached_input_tokens}
    if usage.cache_write_input_tokens:
        details["cache_write_tokens"] = usage.cache_write_input_tokens
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": details,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


# --- canonical chunks -----------------------------------------------------


def chunk(
    id: str,
    created: int,
    model: str,
    delta: JSON,
    finish_reason: str | None = None,
    index: int = 0,
) -> JSON:
    """Return one canonical `chat.completion.chunk` with a single choice."""
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ],
    }


def usage_chunk(id: str, created: int, model: str, usage: Usage) -> JSON:
    """Return the usage-only chunk that closes a canonical stream (see base.py)."""
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": openai_usage(usage),
    }


def tool_call_arguments(arguments: object) -> JSON:
    """Parse an OpenAI tool call's JSON-string arguments into the object other providers want."""
    if isinstance(arguments, dict):
        return arguments
    if arguments is None or arguments == "":
        return {}
    if not isinstance(arguments, str):
        raise InvalidRequest("Tool call arguments must be a JSON string.", param="messages")
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest("Tool call arguments are not valid JSON.", param="messages") from e
    if not isinstance(value, dict):
        raise InvalidRequest("Tool call arguments must be a JSON object.", param="messages")
    return value


def base64_embeddings(answer: JSON) -> JSON:
    """Re-encode float embeddings as OpenAI's `encoding_format: "base64"` (float32, little-endian).

    For a client that asked for base64 from a provider that only answers floats.
    """
    data = []
    for item in answer.get("data") or []:
        vector = item.get("embedding")
        if isinstance(vector, list):
            packed = struct.pack(f"<{len(vector)}f", *vector)
            item = {**item, "embedding": base64.b64encode(packed).decode()}
        data.append(item)
    return {**answer, "data": data}


# --- content --------------------------------------------------------------


def parse_data_url(url: str) -> tuple[str, str] | None:
    """Split `data:<media type>;base64,<data>` into (media type, base64 data); None otherwise."""
    if not url.startswith("data:"):
        return None
    header, comma, data = url[5:].partition(",")
    if not comma or not header.endswith(";base64"):
        raise InvalidRequest("Only base64 data: URLs are supported for images.", param="messages")
    media_type = header[: -len(";base64")].split(";")[0] or "application/octet-stream"
    return media_type, data


def text_of(content: object) -> str:
    """Join the text of an OpenAI `content` (a string or a list of parts), dropping the rest."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def messages_of(body: JSON) -> list[JSON]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise InvalidRequest("'messages' must be a list of message objects.", param="messages")
    return messages


# --- errors ---------------------------------------------------------------

_SECRET_PATTERNS = [
    # Authorization values, and key parameters in URLs or messages.
    re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"),
    re.compile(
        r"(?i)(\bx-api-key|\bx-goog-api-key|\bapi[-_ ]?key|\bauthorization|[?&]key)"
        r"(\s*[:=]\s*)[^\s\"',;&]+"
    ),
    # Well-known key shapes (masked ones too: "sk-proj-****abcd").
    re.compile(r"\b(sk|sk-ant|sk-proj|sk-sel|gsk|xai|pplx|nvapi)[-_][A-Za-z0-9_\-*]{4,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"),
    re.compile(r"[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*"),
    # Long bare tokens (Azure, Mistral, Together keys): letters and digits, no separators.
    re.compile(r"\b(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{32,}\b"),
]


def _redact(match: re.Match[str]) -> str:
    if match.re is _SECRET_PATTERNS[0]:
        return f"{match.group(1)} [redacted]"
    if match.re is _SECRET_PATTERNS[1]:
        return f"{match.group(1)}{match.group(2)}[redacted]"
    return "[redacted]"


def scrub(text: str, api_key: str = "") -> str:
    """Remove the key and anything shaped like a credential; bound the length."""
    if api_key and len(api_key) >= 4:
        text = text.replace(api_key, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_redact, text)
    text = " ".join(text.split())
    if len(text) > MAX_ERROR_MESSAGE:
        text = text[: MAX_ERROR_MESSAGE - 1] + "…"
    return text


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def retry_after_seconds(headers: Mapping[str, str], now_s: float | None = None) -> float | None:
    """Read `retry-after-ms`, or `retry-after` as seconds or an HTTP date, as seconds from now."""
    millis = header_value(headers, "retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = header_value(headers, "retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        current = time.time() if now_s is None else now_s
        return max(0.0, when.timestamp() - current)
    return value if math.isfinite(value) and value >= 0 else None


def error_text(payload: bytes) -> tuple[str | None, str | None]:
    """Find (message, error type) in the error shapes providers use; None if there is none."""
    try:
        value: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        text = payload.decode("utf-8", "replace").strip()
        # An HTML error page from a load balancer says nothing useful to a caller.
        if not text or text.startswith("<"):
            return None, None
        return text, None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]  # Gemini streams may answer an error as a one-element array
    if not isinstance(value, dict):
        return None, None
    error = value.get("error", value)
    if isinstance(error, str):
        return error, None
    if not isinstance(error, dict):
        return None, None
    message = error.get("message") or error.get("detail") or value.get("detail")
    # OpenAI names the class in type, Azure in code, Google in status (its code is the HTTP one).
    kind = next(
        (
            error[k]
            for k in ("type", "code", "status")
            if isinstance(error.get(k), str) and error[k]
        ),
        None,
    )
    if isinstance(message, list):  # FastAPI-style validation errors (vLLM)
        message = "; ".join(
            str(m.get("msg", m)) if isinstance(m, dict) else str(m) for m in message
        )
    return (
        str(message) if message is not None else None,
        str(kind) if kind is not None else None,
    )


def upstream_error(
    status: int,
    payload: bytes,
    headers: Mapping[str, str],
    api_key: str,
    retry_after_s: float | None = None,
) -> UpstreamError:
    """Restate an error answer in any of the usual shapes, scrubbed of secrets."""
    message, kind = error_text(payload)
    if retry_after_s is None:
        retry_after_s = retry_after_seconds(headers)
    return UpstreamError(
        status=status,
        message=scrub(message or f"The provider answered HTTP {status}.", api_key),
        retry_after_s=retry_after_s,
        type=scrub(kind, api_key) if kind else None,
    )
