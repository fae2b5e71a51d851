"""GET /api/v1/usage/ totals equal the request log's for the same window (CONTRACT.md section 4).

The drain fills UsageRollup in the transaction that writes the log (lane C1
of issue 14 is building it); until it does, this test is an expected
failure, and strict: the day the drain fills the rollups it passes, the
run reports XPASS as a failure, and the mark must go.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import redis
from django.db.models import Count, Q, Sum
from rest_framework.test import APIClient

from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona
from tests.factories.usage import push_usage, usage_event_of


def test_usage_totals_equal_the_request_log(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    now = time.time()
    events = [
        usage_event_of(alice, ts=now, cost_usd="0.000123", latency_ms=120),
        usage_event_of(alice, ts=now, model_dispatched="claude", provider="anthropic",
                       input_tokens=1000, output_tokens=2000, cost_usd="1.234567"),
        usage_event_of(alice, ts=now, status=503, error_type="upstream_error", cost_usd=None,
                       input_tokens=0, output_tokens=0),
        usage_event_of(alice, ts=now - 86400, cost_usd="0.5"),  # yesterday
    ]  # fmt: skip
    for event in events:
        push_usage(redis_client, event)
    assert drain_usage_stream(redis_client) == len(events)

    today = datetime.fromtimestamp(now, UTC).date()
    since, until = today - timedelta(days=1), today + timedelta(days=1)
    body = alice_api.get(f"/api/v1/usage/?from={since}&to={until}&group_by=day,model").json()

    log = RequestLog.objects.filter(org=alice.org).aggregate(
        requests=Count("id"),
        errors=Count("id", filter=Q(status__gte=400)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cached_input_tokens=Sum("cached_input_tokens"),
        reasoning_tokens=Sum("reasoning_tokens"),
        cost=Sum("cost_usd"),
    )
    totals = body["totals"]
    assert totals["requests"] == log["requests"] == 4
    assert totals["errors"] == log["errors"] == 1
    for figure in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens"):
        assert totals[figure] == log[figure], figure
    assert Decimal(totals["cost_usd"]) == log["cost"] == Decimal("1.734690")
    assert sum(row["requests"] for row in body["rows"]) == 4
