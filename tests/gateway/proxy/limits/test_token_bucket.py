"""lua/token_bucket.lua against real Redis (standalone and cluster): the TPM limit."""

from __future__ import annotations

from tests.gateway.proxy.limits.lua_functions import LuaFunctions

W = 60_000
KEY = "sel:{org-a}:rl:tpm:key:k1"
NOW = 1_700_000_000_000  # a realistic epoch in ms: these must stay exact as doubles
CAPACITY = 100  # 100 tokens per minute: one token every 600 ms


async def test_a_full_bucket_admits_its_capacity_then_waits_for_the_refill(
    lua: LuaFunctions,
) -> None:
    assert await lua.bucket_admit(KEY, NOW, CAPACITY, cost=60) == 0
    assert await lua.bucket_admit(KEY, NOW, CAPACITY, cost=40) == 0

    retry = await lua.bucket_check(KEY, NOW, CAPACITY, cost=5)

    assert retry == 5 * 600
    assert await lua.bucket_check(KEY, NOW + retry - 1, CAPACITY, cost=5) > 0
    assert await lua.bucket_check(KEY, NOW + retry, CAPACITY, cost=5) == 0


async def test_it_refills_linearly_and_never_above_capacity(lua: LuaFunctions) -> None:
    await lua.bucket_take(KEY, NOW, CAPACITY, cost=CAPACITY)

    assert await lua.bucket_check(KEY, NOW + W // 2, CAPACITY, cost=50) == 0
    assert await lua.bucket_check(KEY, NOW + W // 2, CAPACITY, cost=51) == 600
    assert await lua.bucket_take(KEY, NOW + 10 * W, CAPACITY, cost=0) == CAPACITY


async def test_frequent_calls_lose_no_fraction_of_a_token(lua: LuaFunctions) -> None:
    await lua.bucket_take(KEY, NOW, CAPACITY, cost=CAPACITY)
    # A call every 100 ms refills 1/6 of a token each time: rounding each
    # refill to whole tokens would never refill at all.
    for step in range(1, 6):
        await lua.bucket_take(KEY, NOW + step * 100, CAPACITY, cost=0)

    assert await lua.bucket_check(KEY, NOW + 599, CAPACITY, cost=1) == 1
    assert await lua.bucket_check(KEY, NOW + 600, CAPACITY, cost=1) == 0


async def test_usage_above_the_reservation_becomes_debt_that_later_requests_wait_out(
    lua: LuaFunctions,
) -> None:
    await lua.bucket_admit(KEY, NOW, CAPACITY, cost=100)
    # Settlement: the request used 150 tokens, not the 100 it reserved.
    level = await lua.bucket_take(KEY, NOW, CAPACITY, cost=50)

    assert level == -50
    # 51 tokens to refill before one more token is there: 51 * 600 ms.
    assert await lua.bucket_check(KEY, NOW, CAPACITY, cost=1) == 51 * 600
    # Even a request reserving nothing waits until the level is above zero.
    assert await lua.bucket_check(KEY, NOW + 50 * 600, CAPACITY, cost=0) == 1


async def test_a_refund_never_fills_past_capacity(lua: LuaFunctions) -> None:
    await lua.bucket_take(KEY, NOW, CAPACITY, cost=30)

    assert await lua.bucket_take(KEY, NOW, CAPACITY, cost=-20) == 90
    assert await lua.bucket_take(KEY, NOW, CAPACITY, cost=-500) == CAPACITY


async def test_a_clock_going_backwards_refills_nothing(lua: LuaFunctions) -> None:
    await lua.bucket_take(KEY, NOW, CAPACITY, cost=CAPACITY)
    behind = NOW - W

    retry = await lua.bucket_check(KEY, behind, CAPACITY, cost=1)
    await lua.bucket_take(KEY, behind, CAPACITY, cost=0)

    # It waits until the stored refill time plus one token's refill.
    assert behind + retry == NOW + 600
    # The call from behind did not move the refill time back: 600 ms after
    # NOW holds exactly one token, not a minute's worth.
    assert await lua.bucket_check(KEY, NOW + 600, CAPACITY, cost=1) == 0
    assert await lua.bucket_check(KEY, NOW + 600, CAPACITY, cost=2) == 600


async def test_a_cost_above_capacity_never_fits(lua: LuaFunctions) -> None:
    assert await lua.bucket_check(KEY, NOW, CAPACITY, cost=CAPACITY + 1) == -1
    assert await lua.bucket_check(KEY, NOW, 0, cost=0) == -1


async def test_its_state_expires_once_the_bucket_would_be_full_again(
    lua: LuaFunctions,
) -> None:
    await lua.bucket_take(KEY, NOW, CAPACITY, cost=50)

    ttl = await lua.client.pttl(KEY)

    # 50 tokens refill in 30 s; a missing bucket is a full one. One window of
    # slack covers proxies with clocks behind.
    assert W < ttl <= W // 2 + W
