"""Request log rows as the drain writes them, with the metadata of CONTRACT.md section 6.

Tests of reading the log (filters, pages, exports, the dashboard) build rows
here directly: what they check is the reading, and the drain that writes the
rows has tests of its own (tests/observability/test_request_log.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from observability import partitions
from observability.models import RequestLog
from tenants.models import Organization

FIRST = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


def attempt(
    provider: str = "openai",
    model: str = "gpt-4o-mini",
    outcome: str = "ok",
    latency_ms: int = 110,
    endpoint: str = "api.openai.com",
    health: str = "closed",
) -> dict[str, object]:
    return {
        "deployment_id": f"r1:{provider}",
        "provider": provider,
        "model": model,
        "outcome": outcome,
        "latency_ms": latency_ms,
        "endpoint": endpoint,
        "health": health,
    }


def _fields(org: Organization, created_at: datetime, changes: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": uuid.uuid4().hex,
        "org": org,
        "project_id": None,
        "key_id": None,
        "created_at": created_at,
        "endpoint": "/v1/chat/completions",
        "model_requested": "gpt-demo",
        "model_dispatched": "gpt-4o-mini",
        "provider": "openai",
        "deployment_id": "r1:openai",
        "strategy": "priority",
        "status": 200,
        "input_tokens": 12,
        "output_tokens": 34,
        "latency_ms": 120,
        "ttfb_ms": 80,
        "cost_usd": Decimal("0.000123"),
        "attempts": [attempt()],
        "upstream_host": "api.openai.com",
        "routing_version": 7,
        "task": "chat",
    }
    fields.update(changes)
    return fields


def _with_partitions(first: datetime, last: datetime) -> None:
    """The log is day-partitioned: make the days these rows fall on exist (fixed test dates)."""
    partitions.ensure_partitions(first.astimezone(UTC).date(), last.astimezone(UTC).date())


def logged_request(org: Organization, **changes: Any) -> RequestLog:
    """One request log row of `org` (a served request unless `changes` say otherwise)."""
    created_at = changes.pop("created_at", FIRST)
    _with_partitions(created_at, created_at)
    return RequestLog.objects.create(**_fields(org, created_at, changes))


def logged_requests(
    org: Organization, count: int, *, start: datetime = FIRST, **changes: Any
) -> list[RequestLog]:
    """`count` rows of `org`, one a second from `start`, inserted in batches."""
    rows = [
        RequestLog(**_fields(org, start + timedelta(seconds=index), dict(changes)))
        for index in range(count)
    ]
    if rows:
        _with_partitions(rows[0].created_at, rows[-1].created_at)
    return RequestLog.objects.bulk_create(rows, batch_size=1000)
