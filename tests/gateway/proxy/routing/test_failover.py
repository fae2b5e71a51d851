"""One request's failover bounds and what its attempts teach the health book; the gauges' bound."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.failover import Failover
from gateway.proxy.routing.gauges import MAX_SERIES, RoutingGauges
from gateway.proxy.routing.health import HealthBook, now_ms
from tests.factories.routing import deployment_entry

ORG = "org-f"
DEPLOYMENT = deployment_entry("0")


def failover(max_attempts: int | None = None, deadline_at: float | None = None) -> Failover:
    return Failover(ORG, HealthBook(), RoutingConfig(), max_attempts, deadline_at)


async def test_the_attempt_limit_stops_the_next_attempt() -> None:
    plan = failover(max_attempts=2)
    assert await plan.before_retry(1) is None
    assert "limit of 2 attempts" in (await plan.before_retry(2) or "")


async def test_a_passed_deadline_stops_the_next_attempt() -> None:
    plan = failover(deadline_at=time.perf_counter() - 0.001)
    assert "deadline" in (await plan.before_retry(1) or "")


def test_a_429_keeps_the_deployment_out_for_its_retry_after_without_counting_as_a_failure() -> None:
    plan = failover()
    plan.failed(DEPLOYMENT, "http_429", 7.0)
    health = plan.book.get(ORG, "route:0")
    assert health.failures == 0
    assert health.blocked_until_ms(plan.config.breaker) >= now_ms() + 6_000


def test_a_missing_provider_key_says_nothing_about_the_deployments_health() -> None:
    plan = failover()
    plan.failed(DEPLOYMENT, "no_provider_key", None)
    assert plan.book.get(ORG, "route:0").requests == 0


@pytest.mark.parametrize("outcome", ["http_401", "http_403"])
def test_a_refused_key_says_nothing_about_the_deployments_health(outcome: str) -> None:
    # As a health ping reports it: ours to fix (providers.base KEY_REFUSED_STATUSES).
    plan = failover()
    plan.failed(DEPLOYMENT, outcome, None)
    assert plan.book.get(ORG, "route:0").requests == 0


@pytest.mark.parametrize("outcome", ["http_408", "http_425", "http_500", "http_529"])
def test_a_retryable_answer_counts_against_the_deployments_health(outcome: str) -> None:
    plan = failover()
    plan.failed(DEPLOYMENT, outcome, None)
    assert plan.book.get(ORG, "route:0").failures == 1


def test_a_stream_broken_after_its_first_bytes_counts_as_a_failure() -> None:
    plan = failover()
    plan.succeeded(DEPLOYMENT, 120, broken=True)
    assert plan.book.get(ORG, "route:0").failures == 1


def test_the_gauges_show_at_most_max_series_deployments_the_most_recently_used() -> None:
    book = HealthBook()
    for index in range(MAX_SERIES + 50):
        book.get(ORG, f"route:{index}").last_used_ms = index
    registry = CollectorRegistry()
    registry.register(RoutingGauges(book, RoutingConfig()))
    lines = generate_latest(registry).decode().splitlines()
    states = [line for line in lines if line.startswith("selixes_deployment_breaker_state{")]
    assert len(states) == MAX_SERIES
    assert f'deployment="route:{MAX_SERIES + 49}"' in states[0]
    assert f"selixes_routing_deployments {MAX_SERIES + 50}.0" in lines
