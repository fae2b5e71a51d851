"""lua/sliding_window.lua against real Redis (standalone and cluster): the RPM limit."""

from __future__ import annotations

from tests.gateway.proxy.limits.lua_functions import LuaFunctions

W = 60_000
KEY = "sel:{org-a}:rl:rpm:key:k1"
# 5 s into window 2, an arbitrary instant that is not a window's start.
NOW = 2 * W + 5_000


async def test_it_allows_exactly_the_limit_in_a_window(lua: LuaFunctions) -> None:
    answers = [await lua.sliding_admit(KEY, NOW, limit=10) for _ in range(11)]

    assert answers[:10] == [0] * 10
    assert answers[10] > 0


async def test_the_next_request_must_wait_until_enough_of_the_window_has_slid_out(
    lua: LuaFunctions,
) -> None:
    for _ in range(10):
        await lua.sliding_admit(KEY, NOW, limit=10)

    # In window 3 the 10 requests of window 2 weigh 10 * (1 - elapsed / W); one
    # more fits once that is at most 9, i.e. 6 s into window 3.
    retry = await lua.sliding_check(KEY, NOW, limit=10)

    assert retry == 3 * W + 6_000 - NOW
    assert await lua.sliding_check(KEY, NOW + retry - 1, limit=10) > 0
    assert await lua.sliding_check(KEY, NOW + retry, limit=10) == 0


async def test_the_previous_window_counts_by_the_share_still_inside_the_sliding_window(
    lua: LuaFunctions,
) -> None:
    for _ in range(10):
        await lua.sliding_admit(KEY, 0, limit=10)
    half_way = W + 30_000  # half of window 0 is still inside: it weighs 5

    answers = [await lua.sliding_admit(KEY, half_way, limit=10) for _ in range(6)]

    assert answers[:5] == [0] * 5
    # 5 taken + 1 wanted + 10 * (1 - e / W) <= 10 once e >= 36 s: 6 s later.
    assert answers[5] == 6_000


async def test_a_window_two_windows_old_no_longer_counts(lua: LuaFunctions) -> None:
    for _ in range(10):
        await lua.sliding_admit(KEY, 0, limit=10)

    assert await lua.sliding_check(KEY, 2 * W, limit=10, cost=10) == 0


async def test_rejected_requests_are_not_counted(lua: LuaFunctions) -> None:
    for _ in range(10):
        await lua.sliding_admit(KEY, NOW, limit=10)
    for _ in range(50):
        assert await lua.sliding_admit(KEY, NOW, limit=10) > 0

    # Were the 50 counted, window 4 would still be out of reach.
    assert await lua.sliding_check(KEY, 4 * W, limit=10, cost=10) == 0


async def test_a_clock_going_backwards_frees_nothing(lua: LuaFunctions) -> None:
    for _ in range(10):
        await lua.sliding_admit(KEY, NOW, limit=10)
    behind = NOW - W  # a proxy whose clock is a whole window behind

    retry = await lua.sliding_check(KEY, behind, limit=10)
    await lua.sliding_take(KEY, behind)  # counted in the window stored, not an older one

    assert retry > 0
    # Its wait reaches the same instant as for a clock that is right.
    assert behind + retry == 3 * W + 6_000
    # 11 in window 2 now: at 3W + 6 s they still weigh 9.9, so one more does not fit.
    assert await lua.sliding_check(KEY, 3 * W + 6_000, limit=10) > 0


async def test_a_negative_cost_gives_back_but_never_below_zero(lua: LuaFunctions) -> None:
    for _ in range(3):
        await lua.sliding_take(KEY, NOW)

    assert await lua.sliding_take(KEY, NOW, cost=-1) == 2
    assert await lua.sliding_take(KEY, NOW, cost=-5) == 0
    assert await lua.sliding_take(KEY, NOW) == 1


async def test_a_cost_above_the_limit_never_fits(lua: LuaFunctions) -> None:
    assert await lua.sliding_check(KEY, NOW, limit=3, cost=4) == -1
    assert await lua.sliding_check(KEY, NOW, limit=0, cost=1) == -1


async def test_its_counts_expire_once_they_can_no_longer_matter(lua: LuaFunctions) -> None:
    await lua.sliding_take(KEY, NOW)

    ttl = await lua.client.pttl(KEY)

    # Window 2's count matters until the end of window 3, under 2 windows from now.
    assert W < ttl <= 2 * W
