"""lua/limits.lua through check_and_take_limits: a plan is admitted by every limit or by none."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from gateway.proxy.limits import Limit, check_and_take_limits, limit_key, limits_script
from gateway.proxy.lua_scripts import run_script
from gateway.proxy.redis_client import AsyncRedisClient

W = 60_000
NOW = 1_700_000_000_000 - 1_700_000_000_000 % W + 5_000  # 5 s into a window


def limit(kind: str, scope: str, value: int, org: str = "org-a") -> Limit:
    scope_id = "k1" if scope == "key" else "p1"
    key = limit_key(org, kind, scope, scope_id)  # type: ignore[arg-type]
    return Limit(kind, scope, scope_id, key, value)  # type: ignore[arg-type]


async def test_it_admits_the_limit_then_names_the_limit_and_the_wait(
    lua_client: AsyncRedisClient,
) -> None:
    plan = [limit("rpm", "key", 3), limit("tpm", "key", 1_000)]

    answers = [await check_and_take_limits(lua_client, plan, NOW, tokens=10) for _ in range(4)]

    assert answers[:3] == [None] * 3
    rejection = answers[3]
    assert rejection is not None
    assert rejection.limit == plan[0]
    assert rejection.retry_after_ms == W + W // 3 - 5_000
    assert rejection.retry_after_s == 75


async def test_a_request_rejected_by_one_limit_is_counted_by_none(
    lua_client: AsyncRedisClient,
) -> None:
    plan = [limit("rpm", "key", 3), limit("tpm", "project", 100)]

    for _ in range(20):
        rejection = await check_and_take_limits(lua_client, plan, NOW, tokens=101)
        assert rejection is not None
        assert rejection.limit == plan[1]
        assert rejection.retry_after_ms is None  # 101 tokens never fit in 100

    answers = [await check_and_take_limits(lua_client, plan, NOW, tokens=30) for _ in range(3)]
    assert answers == [None] * 3


async def test_the_limit_keeping_the_request_out_longest_is_named(
    lua_client: AsyncRedisClient,
) -> None:
    plan = [limit("rpm", "key", 1), limit("tpm", "project", 600)]
    await check_and_take_limits(lua_client, plan, NOW, tokens=600)

    rejection = await check_and_take_limits(lua_client, plan, NOW, tokens=300)

    # 300 tokens refill in 30 s (one per 100 ms); the one request allowed per
    # minute only fits again once its window has slid out entirely: 115 s.
    assert rejection is not None
    assert rejection.limit == plan[0]
    assert rejection.retry_after_ms == W - 5_000 + W
    rejection = await check_and_take_limits(lua_client, plan, NOW + W * 2, tokens=600)
    assert rejection is None


# Fewer than the client's pool of 100 connections, which refuses more at once.
CONCURRENT = 90


async def test_concurrent_requests_never_pass_more_than_the_limit(
    lua_client: AsyncRedisClient,
) -> None:
    plan = [limit("rpm", "key", 30), limit("tpm", "project", 1_000)]

    answers = await asyncio.gather(
        *(check_and_take_limits(lua_client, plan, NOW, tokens=7) for _ in range(CONCURRENT))
    )

    assert sum(answer is None for answer in answers) == 30
    # 30 requests of 7 tokens left 790: the rejected ones took nothing.
    assert await check_and_take_limits(lua_client, plan[1:], NOW, tokens=790) is None
    assert await check_and_take_limits(lua_client, plan[1:], NOW, tokens=1) is not None


async def test_concurrent_token_requests_never_take_more_than_the_bucket_holds(
    lua_client: AsyncRedisClient,
) -> None:
    plan = [limit("tpm", "key", 300)]

    answers = await asyncio.gather(
        *(check_and_take_limits(lua_client, plan, NOW, tokens=7) for _ in range(CONCURRENT))
    )

    assert sum(answer is None for answer in answers) == 300 // 7


async def test_it_loads_the_script_again_when_redis_forgot_it(
    whole_server_client: AsyncRedisClient,
) -> None:
    lua_client = whole_server_client  # SCRIPT FLUSH empties the whole server's cache
    plan = [limit("rpm", "key", 5)]
    await check_and_take_limits(lua_client, plan, NOW, tokens=0)
    if isinstance(lua_client, RedisCluster):
        await lua_client.execute_command("SCRIPT FLUSH", target_nodes=RedisCluster.PRIMARIES)
    else:
        await lua_client.script_flush()

    assert await check_and_take_limits(lua_client, plan, NOW, tokens=0) is None
    # ...and it is cached again where the keys live.
    if isinstance(lua_client, RedisCluster):
        owner = lua_client.get_node_from_key(plan[0].redis_key)
        exists = await lua_client.execute_command(
            "SCRIPT EXISTS", limits_script().sha, target_nodes=owner
        )
    else:
        exists = await lua_client.script_exists(limits_script().sha)
    assert exists == [True]


async def test_an_unknown_limit_kind_is_an_error(lua_client: AsyncRedisClient) -> None:
    with pytest.raises(ResponseError, match="unknown limit kind"):
        plan = f'[["rpd", {W}, 5, 1]]'
        await run_script(lua_client, limits_script(), ["sel:{org-a}:rl:x"], [NOW, plan])
