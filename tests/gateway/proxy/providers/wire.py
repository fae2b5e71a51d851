"""Helpers for the adapter tests: recorded fixtures, deployments, decoders fed in pieces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from gateway.proxy.providers.base import JSON, StreamDecoder
from gateway.shared.snapshot import DeploymentEntry

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> JSON:
    value: JSON = orjson.loads(fixture(name))
    return value


def deployment(
    provider: str,
    model: str,
    api_base: str | None = None,
    api_version: str | None = None,
) -> DeploymentEntry:
    return {
        "id": f"alias#{provider}",
        "provider": provider,
        "model": model,
        "api_base": api_base,
        "api_version": api_version,
        "provider_key_id": None,
        "weight": 1,
        "quality": None,
        "price": None,
        "timeout_s": 60.0,
        "connect_timeout_s": 5.0,
    }


def body_of(raw: bytes) -> JSON:
    value: JSON = orjson.loads(raw)
    return value


def decode(decoder: StreamDecoder, *pieces: bytes) -> list[JSON]:
    """Feed the pieces in order, then close; return every chunk."""
    chunks: list[JSON] = []
    for piece in pieces:
        chunks.extend(decoder.feed(piece))
    chunks.extend(decoder.close())
    return chunks


def timeless(chunks: list[JSON]) -> list[JSON]:
    """Drop `created`, which some decoders stamp with the clock."""
    return [{k: v for k, v in c.items() if k != "created"} for c in chunks]


def assert_same_at_every_split(new_decoder: Callable[[], StreamDecoder], stream: bytes) -> None:
    """Feeding the stream split at any byte gives what feeding it whole gives."""
    whole = timeless(decode(new_decoder(), stream))
    assert whole
    for at in range(len(stream) + 1):
        split = timeless(decode(new_decoder(), stream[:at], stream[at:]))
        assert split == whole, f"differs when split at byte {at}"


def text_of_stream(chunks: list[JSON]) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )


def tool_calls_of_stream(chunks: list[JSON]) -> dict[int, dict[str, Any]]:
    """Accumulate streamed tool-call deltas the way the OpenAI SDK does."""
    calls: dict[int, dict[str, Any]] = {}
    for c in chunks:
        for choice in c.get("choices", []):
            for delta in choice["delta"].get("tool_calls") or []:
                call = calls.setdefault(delta["index"], {"id": None, "name": "", "arguments": ""})
                if delta.get("id"):
                    call["id"] = delta["id"]
                function = delta.get("function") or {}
                call["name"] += function.get("name") or ""
                call["arguments"] += function.get("arguments") or ""
    return calls
