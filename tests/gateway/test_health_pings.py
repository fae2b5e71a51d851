"""Active health pings against the mock provider: outcomes land in the proxies' shared state.

The mock picks its failure mode from the deployment's model name
(gateway/mock_provider/scenarios.py) and counts what it received per scenario.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from gateway.health_pings import ping_opted_in_deployments
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.ping import ping_key
from gateway.proxy.routing.sync import HealthSync, health_key
from gateway.tasks import ping_deployments
from tests.conftest import Persona
from tests.factories.routing import deployment_spec, saved_route

MIN_REQUESTS = 3


@pytest.fixture(autouse=True)
def _pings_env(monkeypatch: pytest.MonkeyPatch, settings: Any, mock_url: str) -> Iterator[None]:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock listens on loopback
    monkeypatch.setenv("SELIXES_BREAKER_MIN_REQUESTS", str(MIN_REQUESTS))
    monkeypatch.setenv("SELIXES_BREAKER_COOLDOWN_S", "30")
    httpx.post(f"{mock_url}/_mock/reset").raise_for_status()
    yield


def _received(mock_url: str) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{mock_url}/_mock/requests").json()["by_scenario"]
    return counts


def _window(redis_client: redis.Redis, org_id: str, deployment_id: str) -> tuple[int, int, bool]:
    """(requests, failures, open) of a deployment's shared state, as the sync script keeps it."""
    stored: dict[bytes, bytes] = redis_client.hgetall(health_key(org_id, deployment_id))  # type: ignore[assignment]
    fields = {k.decode(): v.decode() for k, v in stored.items()}
    requests = sum(int(v) for k, v in fields.items() if k.startswith("n:"))
    failures = sum(int(v) for k, v in fields.items() if k.startswith("f:"))
    return requests, failures, fields.get("open") == "1"


def test_failing_pings_open_the_breaker_and_an_opted_out_deployment_is_never_pinged(
    alice: Persona,
    mock_url: str,
    redis_client: redis.Redis,
) -> None:
    route = saved_route(
        alice,
        "chat",
        deployment_spec(mock_url, "primary-mock-error-500", health_check=True),
        deployment_spec(mock_url, "quiet-mock-chunks-2", health_check=False),
    )
    org_id, failing, quiet = str(alice.org.id), f"{route.id}:0", f"{route.id}:1"
    for run in range(1, MIN_REQUESTS + 1):
        [outcome] = ping_opted_in_deployments()
        assert (outcome.deployment_id, outcome.outcome) == (failing, "http_500")
        requests, failures, is_open = _window(redis_client, org_id, failing)
        assert (requests, failures) == (run, run)
        assert is_open is (run == MIN_REQUESTS)
    last = redis_client.hgetall(ping_key(org_id, failing))
    assert last[b"outcome"] == b"http_500"
    # Open, cooldown not over: no more pings (they could change nothing and cost money).
    assert ping_opted_in_deployments() == []
    assert _received(mock_url) == {"error:500": MIN_REQUESTS}
    assert not redis_client.exists(health_key(org_id, quiet))
    assert not redis_client.exists(ping_key(org_id, quiet))


def test_a_successful_ping_is_the_probe_that_closes_a_half_open_breaker(
    alice: Persona,
    mock_url: str,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    monkeypatch.setenv("SELIXES_BREAKER_COOLDOWN_S", "0")
    route = saved_route(alice, "chat", deployment_spec(mock_url, "healthy-mock-chunks-1", True))
    org_id, deployment_id = str(alice.org.id), f"{route.id}:0"

    async def fail_as_a_proxy_would() -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        config = RoutingConfig.from_env(os.environ)
        book = HealthBook()
        health = book.get(org_id, deployment_id)
        for _ in range(MIN_REQUESTS):
            health.record_failure(now_ms(), config.breaker, probing=False)
        await HealthSync(client, book, config).sync_once()
        await client.aclose()

    asyncio.run(fail_as_a_proxy_would())
    assert _window(redis_client, org_id, deployment_id) == (MIN_REQUESTS, MIN_REQUESTS, True)
    [outcome] = ping_opted_in_deployments()
    assert (outcome.outcome, outcome.probe) == ("ok", True)
    # Closed for every proxy, with a fresh window that holds the probe alone.
    assert _window(redis_client, org_id, deployment_id) == (1, 0, False)
    assert redis_client.hget(ping_key(org_id, deployment_id), "outcome") == b"ok"


def test_a_private_address_is_refused_when_private_upstreams_are_denied(
    alice: Persona,
    mock_url: str,
    redis_client: redis.Redis,
    settings: Any,
) -> None:
    route = saved_route(alice, "chat", deployment_spec(mock_url, "fine-mock-chunks-1", True))
    settings.SELIXES_PRIVATE_UPSTREAMS = "deny"
    [outcome] = ping_opted_in_deployments()
    assert outcome.outcome == "upstream_forbidden"
    assert _received(mock_url) == {}
    # Our own rule, not the deployment's health: nothing counts toward its breaker.
    assert _window(redis_client, str(alice.org.id), f"{route.id}:0")[:2] == (0, 0)


def test_the_beat_task_pings_only_opted_in_deployments_of_every_org(
    alice: Persona,
    charlie: Persona,
    mock_url: str,
) -> None:
    saved_route(alice, "a", deployment_spec(mock_url, "a-mock-chunks-1", True))
    saved_route(charlie, "c", deployment_spec(mock_url, "c-mock-chunks-2", True),
           deployment_spec(mock_url, "off-mock-chunks-3", False))  # fmt: skip
    assert ping_deployments() == 2
    assert _received(mock_url) == {"chunks:1": 1, "chunks:2": 1}


def test_a_refusal_counts_for_nothing_and_a_429_sets_retry_after(
    alice: Persona, mock_url: str, redis_client: redis.Redis
) -> None:
    route = saved_route(
        alice,
        "chat",
        deployment_spec(mock_url, "refused-mock-error-401", True),
        deployment_spec(mock_url, "busy-mock-error-429-retry-after-30", True),
    )
    org_id, refused, busy = str(alice.org.id), f"{route.id}:0", f"{route.id}:1"
    before = now_ms()
    outcomes = {o.deployment_id: o for o in ping_opted_in_deployments()}
    assert (outcomes[refused].outcome, outcomes[refused].rejected) == ("http_401", True)
    assert outcomes[busy].outcome == "http_429"
    # Neither is the deployment failing: the breaker's window stays empty.
    assert _window(redis_client, org_id, refused)[:2] == (0, 0)
    assert _window(redis_client, org_id, busy)[:2] == (0, 0)
    retry = int(redis_client.hget(health_key(org_id, busy), "retry") or 0)
    assert before + 29_000 <= retry <= now_ms() + 30_000
    # Inside the provider's retry-after, it is not pinged again.
    assert [o.deployment_id for o in ping_opted_in_deployments()] == [refused]
