"""The dashboard's Routing health page shows the shared state the proxies wrote, org by org."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings as django_settings
from redis.cluster import RedisCluster

from config.redis import get_redis
from gateway.health_pings import ping_opted_in_deployments
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.sync import HealthSync, health_key
from infra.redis_cluster import LocalRedisCluster
from tests.conftest import Persona, logged_in
from tests.factories.routing import deployment_spec, saved_route

_TAG = re.compile(r"<[^>]+>")


def _cells(page: str, deployment_id: str) -> dict[str, str]:
    """The text of each data-field cell in the deployment's row."""
    row = re.search(rf'<tr data-deployment="{re.escape(deployment_id)}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {deployment_id}"
    cells = re.findall(r'<td[^>]*data-field="([a-z-]+)"[^>]*>(.*?)</td>', row.group(1), re.S)
    return {name: " ".join(_TAG.sub(" ", html).split()) for name, html in cells}


def _share(org_id: str, record: Any) -> None:
    """Run `record(book, config)` on a process's HealthBook, then sync it as a proxy does."""

    async def run() -> None:
        client = aioredis.Redis.from_url(django_settings.REDIS_URL)
        config = RoutingConfig.from_env(os.environ)
        book = HealthBook()
        record(book, config)
        await HealthSync(client, book, config).sync_once()
        await client.aclose()

    asyncio.run(run())


def test_the_page_shows_breakers_counts_latency_retry_after_and_pings(
    alice: Persona,
    charlie: Persona,
    mock_url: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    redis_client: redis.Redis,
) -> None:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock listens on loopback
    monkeypatch.setenv("SELIXES_BREAKER_MIN_REQUESTS", "4")
    httpx.post(f"{mock_url}/_mock/reset").raise_for_status()
    route = saved_route(
        alice,
        "chat",
        deployment_spec(mock_url, "a-mock-chunks-1", False),
        deployment_spec(mock_url, "b-mock-chunks-1", False),
        deployment_spec(mock_url, "c-mock-chunks-1", True),
    )
    org_id = str(alice.org.id)
    failing, limited, pinged = (f"{route.id}:{i}" for i in range(3))
    before = now_ms()

    def record(book: HealthBook, config: RoutingConfig) -> None:
        a = book.get(org_id, failing)
        a.record_success(200, probing=False, alpha=config.ttfb_alpha)
        for _ in range(4):
            a.record_failure(now_ms(), config.breaker, probing=False)
        b = book.get(org_id, limited)
        b.record_success(50, probing=False, alpha=config.ttfb_alpha)
        b.record_retry_after(now_ms() + 600_000)

    _share(org_id, record)
    [ping] = ping_opted_in_deployments()
    assert ping.outcome == "ok"

    page = logged_in(alice).get("/o/acme/routing-health/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/o/acme/routing-health/" class="active" aria-current="page"' in text  # nav
    opened_ms = int(redis_client.hget(health_key(org_id, failing), "opened") or 0)
    assert opened_ms >= before
    opened_at = datetime.fromtimestamp(opened_ms / 1000, tz=UTC).strftime("%b %-d, %H:%M:%S")
    a = _cells(text, failing)
    assert a["breaker"] == f"open since {opened_at}"
    assert (a["requests"], a["failures"], a["error-ratio"], a["ttfb"]) == (
        "5",
        "4",
        "80.0%",
        "200 ms",
    )
    assert a["retry-after"] == "—"
    assert a["ping"] == "off"
    b = _cells(text, limited)
    assert b["breaker"] == "closed"
    assert (b["requests"], b["failures"], b["error-ratio"], b["ttfb"]) == (
        "1",
        "0",
        "0.0%",
        "50 ms",
    )
    assert b["retry-after"].startswith("blocked until")
    c = _cells(text, pinged)
    assert c["breaker"] == "closed"
    assert (c["requests"], c["failures"]) == ("1", "0")
    assert c["ping"].startswith(f"ok {ping.latency_ms} ms at")

    # Charlie sees his own org's page, never Acme's deployments, and Acme's is a 404.
    charlie_page = logged_in(charlie).get(f"/o/{charlie.org.slug}/routing-health/")
    assert charlie_page.status_code == 200
    assert str(route.id) not in charlie_page.content.decode()
    assert logged_in(charlie).get("/o/acme/routing-health/").status_code == 404


def test_a_deployment_past_its_cooldown_shows_half_open(
    alice: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELIXES_BREAKER_MIN_REQUESTS", "1")
    monkeypatch.setenv("SELIXES_BREAKER_COOLDOWN_S", "0")
    route = saved_route(alice, "chat", deployment_spec("https://8.8.8.8", "x", False))
    deployment_id = f"{route.id}:0"
    _share(
        str(alice.org.id),
        lambda book, config: book.get(str(alice.org.id), deployment_id).record_failure(
            now_ms(), config.breaker, probing=False
        ),
    )
    cells = _cells(logged_in(alice).get("/o/acme/routing-health/").content.decode(), deployment_id)
    assert cells["breaker"].startswith("half-open since")
    assert (cells["requests"], cells["failures"], cells["error-ratio"]) == ("1", "1", "100.0%")
    assert cells["ttfb"] == "—"


@pytest.mark.cluster
def test_pings_and_the_page_work_on_a_redis_cluster(
    alice: Persona,
    mock_url: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    redis_cluster: LocalRedisCluster,
) -> None:
    get_redis.cache_clear()
    settings.REDIS_URL = redis_cluster.url
    settings.REDIS_CLUSTER = True
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"
    monkeypatch.setenv("SELIXES_BREAKER_MIN_REQUESTS", "2")
    httpx.post(f"{mock_url}/_mock/reset").raise_for_status()
    try:
        route = saved_route(alice, "chat", deployment_spec(mock_url, "down-mock-error-500", True))
        deployment_id = f"{route.id}:0"
        for _ in range(2):
            assert [o.outcome for o in ping_opted_in_deployments()] == ["http_500"]
        cells = _cells(
            logged_in(alice).get("/o/acme/routing-health/").content.decode(), deployment_id
        )
        assert cells["breaker"].startswith("open since")
        assert (cells["requests"], cells["failures"]) == ("2", "2")
        assert cells["ping"].startswith("http_500")
    finally:
        client = get_redis()
        assert isinstance(client, RedisCluster)
        client.flushall(target_nodes=RedisCluster.PRIMARIES)
        client.close()
        get_redis.cache_clear()
