"""The request log keeps the route's strategy from the usage event, and shows it."""

from __future__ import annotations

import pytest
import redis
from rest_framework.test import APIClient

from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona, logged_in
from tests.factories.usage import push_usage, usage_event_of


def test_the_drain_keeps_the_strategy_and_the_api_and_dashboard_show_it(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    event = usage_event_of(alice, strategy="latency")
    push_usage(redis_client, event)
    assert drain_usage_stream(redis_client) == 1
    assert RequestLog.objects.get(request_id=event["request_id"]).strategy == "latency"
    [row] = alice_api.get("/api/v1/requests/").json()["data"]
    assert row["strategy"] == "latency"
    # The list keeps to who, what, outcome and cost; a request's page says how it was routed.
    page = logged_in(alice).get(f"/o/acme/requests/{event['request_id']}/").content.decode()
    assert '<span class="muted small">latency</span>' in page


@pytest.mark.parametrize("strategy", [None, "", "fastest", 3, "Latency", "x" * 40])
def test_an_absent_or_unknown_strategy_is_stored_blank(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis, strategy: object
) -> None:
    event = usage_event_of(alice) if strategy is None else usage_event_of(alice, strategy=strategy)
    push_usage(redis_client, event)
    assert drain_usage_stream(redis_client) == 1
    assert RequestLog.objects.get(request_id=event["request_id"]).strategy == ""
    assert alice_api.get("/api/v1/requests/").json()["data"][0]["strategy"] == ""
