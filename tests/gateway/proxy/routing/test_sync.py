"""Shared health through Redis: two processes' books, synced by lua/routing_sync.lua.

Each HealthBook + HealthSync pair plays one proxy process; `lua_client` runs
every test on the standalone Redis and on a Redis Cluster.
"""

from __future__ import annotations

from dataclasses import replace

import redis.asyncio as aioredis

from gateway.proxy.redis_client import AsyncRedisClient
from gateway.proxy.routing.config import BreakerPolicy, RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.sync import HealthSync, health_key
from tests.servers import free_port

ORG = "org-a"
DEPLOYMENT = "route-1:0"
CONFIG = RoutingConfig(breaker=BreakerPolicy(min_requests=4, cooldown_s=30, probes=1))


def process(client: AsyncRedisClient, config: RoutingConfig = CONFIG) -> HealthSync:
    return HealthSync(client, HealthBook(), config)


async def test_one_processs_failures_open_the_breaker_in_another(
    lua_client: AsyncRedisClient,
) -> None:
    first, second = process(lua_client), process(lua_client)
    seen = second.book.get(ORG, DEPLOYMENT)
    health = first.book.get(ORG, DEPLOYMENT)
    for _ in range(4):
        health.record_failure(now_ms(), CONFIG.breaker, probing=False)
    assert health.breaker.open
    await first.sync_once()
    await second.sync_once()
    assert seen.breaker.open
    assert seen.breaker.opened_ms == health.breaker.opened_ms
    assert (seen.requests, seen.failures) == (4, 4)


async def test_counts_from_several_processes_add_up_and_can_open_together(
    lua_client: AsyncRedisClient,
) -> None:
    processes = [process(lua_client) for _ in range(3)]
    for sync in processes:
        health = sync.book.get(ORG, DEPLOYMENT)
        health.record_success(100, False, CONFIG.ttfb_alpha)
        health.record_failure(now_ms(), CONFIG.breaker, probing=False)
        await sync.sync_once()
    # Six requests, three failed: the last process to judge sees them all.
    last = processes[-1].book.get(ORG, DEPLOYMENT)
    assert (last.requests, last.failures) == (6, 3)
    last.record_failure(now_ms(), CONFIG.breaker, probing=False)
    assert last.breaker.open


async def test_the_ttfb_moving_average_is_shared(lua_client: AsyncRedisClient) -> None:
    first, second = process(lua_client), process(lua_client)
    first.book.get(ORG, DEPLOYMENT).record_success(400, False, CONFIG.ttfb_alpha)
    await first.sync_once()
    for _ in range(10):
        second.book.get(ORG, DEPLOYMENT).record_success(20, False, CONFIG.ttfb_alpha)
    await second.sync_once()
    await first.sync_once()
    merged = first.book.get(ORG, DEPLOYMENT)
    assert merged.samples == 11
    assert 20 < merged.ttfb_ms < 40  # ten fast samples outweigh the old slow one


async def test_a_retry_after_is_shared(lua_client: AsyncRedisClient) -> None:
    first, second = process(lua_client), process(lua_client)
    seen = second.book.get(ORG, DEPLOYMENT)  # the second process routes to it too
    until = now_ms() + 60_000
    first.book.get(ORG, DEPLOYMENT).record_retry_after(until)
    await first.sync_once()
    await second.sync_once()
    assert seen.blocked_until_ms(CONFIG.breaker) == until


async def test_only_the_allowed_number_of_probes_is_granted_and_success_closes_for_all(
    lua_client: AsyncRedisClient,
) -> None:
    config = replace(CONFIG, breaker=replace(CONFIG.breaker, cooldown_s=0.0, probes=1))
    first, second = process(lua_client, config), process(lua_client, config)
    health = first.book.get(ORG, DEPLOYMENT)
    other = second.book.get(ORG, DEPLOYMENT)
    for _ in range(4):
        health.record_failure(now_ms(), config.breaker, probing=False)
    await first.sync_once()
    await second.sync_once()
    assert await first.try_probe(health) == "probe"
    assert await second.try_probe(other) == "denied"
    health.record_success(30, True, config.ttfb_alpha)
    assert not health.breaker.open
    await first.sync_once()
    await second.sync_once()
    assert not other.breaker.open
    assert (other.requests, other.failures) == (1, 0)  # the window started afresh


async def test_a_failed_probe_opens_the_breaker_again_from_now(
    lua_client: AsyncRedisClient,
) -> None:
    config = replace(CONFIG, breaker=replace(CONFIG.breaker, cooldown_s=0.0))
    sync = process(lua_client, config)
    health = sync.book.get(ORG, DEPLOYMENT)
    for _ in range(4):
        health.record_failure(now_ms() - 10_000, config.breaker, probing=False)
    await sync.sync_once()
    first_opened = health.breaker.opened_ms
    assert await sync.try_probe(health) == "probe"
    health.record_failure(now_ms(), config.breaker, probing=True)
    await sync.sync_once()
    assert health.breaker.open and health.breaker.opened_ms > first_opened


async def test_keys_carry_the_org_hash_tag_and_expire(lua_client: AsyncRedisClient) -> None:
    sync = process(lua_client)
    sync.book.get(ORG, DEPLOYMENT).record_success(10, False, CONFIG.ttfb_alpha)
    await sync.sync_once()
    key = health_key(ORG, DEPLOYMENT)
    assert key.startswith("sel:{org-a}:")
    assert await lua_client.pttl(key) > 0


async def test_without_redis_a_process_keeps_its_own_view_and_may_probe_alone() -> None:
    down = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    sync = process(down, replace(CONFIG, breaker=replace(CONFIG.breaker, cooldown_s=0.0)))
    health = sync.book.get(ORG, DEPLOYMENT)
    for _ in range(4):
        health.record_failure(now_ms(), CONFIG.breaker, probing=False)
    await sync.sync_once()  # logged, not raised
    assert health.breaker.open
    assert await sync.try_probe(health) == "probe"
    assert await sync.try_probe(health) == "denied"  # one per sync interval
    await down.aclose()
