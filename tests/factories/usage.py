"""Usage events as a proxy writes them to the sel:usage stream, and reading them back."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import orjson
import redis

from config.redis import get_redis
from gateway.shared.usage_event import STREAM, UsageEvent
from tests.conftest import Persona
from tests.polling import eventually


def usage_event_of(persona: Persona | None, **changes: Any) -> UsageEvent:
    """A served request's usage event for the persona's project (None: a refused, keyless one)."""
    event: UsageEvent = {
        "ts": time.time(),
        "request_id": uuid.uuid4().hex,
        "org_id": str(persona.org.id) if persona else None,
        "project_id": str(persona.project.id) if persona else None,
        "team_id": None,
        "key_id": str(uuid.uuid4()) if persona else None,
        "user_id": None,
        "endpoint": "/v1/chat/completions",
        "model_requested": "gpt-demo",
        "charged_nano": 0,
        "windows": [],
        "model_dispatched": "gpt-4o-mini",
        "provider": "openai",
        "deployment_id": "r1:0",
        "stream": False,
        "status": 200,
        "error_type": None,
        "input_tokens": 12,
        "output_tokens": 34,
        "cached_input_tokens": 2,
        "reasoning_tokens": 0,
        "latency_ms": 120,
        "ttfb_ms": 80,
        "cost_usd": "0.000123",
        "attempts": [
            {"deployment_id": "r1:0", "provider": "openai", "model": "gpt-4o-mini",
             "outcome": "ok", "latency_ms": 110},
        ],
        "client_disconnected": False,
    }  # fmt: skip
    event.update(changes)  # type: ignore[typeddict-item]
    return event


def push_usage(client: redis.Redis, event: UsageEvent) -> None:
    """XADD the event to the usage stream, as the proxy's emitter does."""
    client.xadd(STREAM, {"e": orjson.dumps(event)})


def entries_of(client: redis.Redis, stream: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    return cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(stream))


def entries_of_newest(
    client: redis.Redis, stream: str, count: int
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    return cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrevrange(stream, count=count))


def usage_event(request_id: str) -> dict[str, Any]:
    """The usage event a proxy emitted for `request_id`, once its emitter has flushed it."""

    def emitted() -> dict[str, Any] | None:
        client = cast(redis.Redis, get_redis())
        for _, fields in entries_of_newest(client, STREAM, 200):
            event: dict[str, Any] = orjson.loads(fields[b"e"])
            if event["request_id"] == request_id:
                return event
        return None

    return eventually(emitted, 15, f"the usage event of {request_id}")
