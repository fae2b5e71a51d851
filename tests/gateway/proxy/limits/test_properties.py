"""Property tests of both limit algorithms on real Redis, with `now` chosen by hypothesis.

Each example plays a sequence of requests at instants that may go backwards
and compares the Lua with a model written with exact fractions, checks that
every retry-after is the exact earliest instant the request fits, and that
the limits hold.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction

import redis.asyncio as aioredis
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.gateway.proxy.limits.lua_functions import LuaFunctions

# Keys are fresh per example, so the per-test flush of tests/conftest.py is not needed between them.
examples = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_key_numbers = itertools.count()
# Far from 0, so steps back never reach negative instants.
START = 1_700_000_000_000


def fresh_key(kind: str) -> str:
    return f"sel:{{org-prop}}:rl:{kind}:key:{next(_key_numbers)}"


def with_lua(scenario: Callable[[LuaFunctions], Awaitable[None]]) -> None:
    """Run one example's scenario on its own event loop and client (hypothesis tests are sync)."""

    async def main() -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            await scenario(LuaFunctions(client))
        finally:
            await client.aclose()

    asyncio.run(main())


@dataclass
class SlidingWindowModel:
    """The approximated sliding window, with the previous window weighed as a Fraction."""

    window: int
    limit: int
    index: int | None = None
    current: int = 0
    previous: int = 0

    def view(self, now: int) -> tuple[int, int, int, int]:
        """(window index, instant seen at, current, previous) as of `now`."""
        index = now // self.window
        if self.index is None:
            return index, now, 0, 0
        if self.index > index:  # clock behind the stored window: stand at its start
            return self.index, self.index * self.window, self.current, self.previous
        if self.index == index:
            return index, now, self.current, self.previous
        if self.index == index - 1:
            return index, now, 0, self.current
        return index, now, 0, 0

    def fits(self, now: int, cost: int) -> bool:
        index, at, current, previous = self.view(now)
        still_inside = Fraction(self.window - (at - index * self.window), self.window)
        return current + cost + previous * still_inside <= self.limit

    def take(self, now: int, cost: int) -> int:
        self.index, _, current, self.previous = self.view(now)
        self.current = max(current + cost, 0)
        return self.index


@dataclass
class TokenBucketModel:
    """The token bucket with a Fraction level."""

    window: int
    capacity: int
    level: Fraction | None = None
    at: int = 0

    def refill(self, now: int) -> None:
        if self.level is None:
            self.level, self.at = Fraction(self.capacity), now
        elif now > self.at:
            refilled = self.level + Fraction((now - self.at) * self.capacity, self.window)
            self.level, self.at = min(refilled, Fraction(self.capacity)), now

    def fits(self, now: int, cost: int) -> bool:
        before = (self.level, self.at)
        self.refill(now)
        assert self.level is not None
        answer = self.level >= cost and self.level > 0
        self.level, self.at = before
        return answer

    def take(self, now: int, cost: int) -> None:
        self.refill(now)
        assert self.level is not None
        self.level = min(self.level - cost, Fraction(self.capacity))


# Not tiny: the counters' PEXPIRE runs on Redis's real clock, and a 1 ms window's
# state would expire mid-example. 10 s outlives any example by far.
windows = st.integers(min_value=10_000, max_value=60_000)


@st.composite
def steps(draw: st.DrawFn, window: int, max_cost: int) -> list[tuple[int, int]]:
    """(ms since the previous request, possibly negative; cost) pairs."""
    step = st.tuples(
        st.integers(min_value=-window, max_value=3 * window),
        st.integers(min_value=0, max_value=max_cost),
    )
    return draw(st.lists(step, min_size=1, max_size=25))


@st.composite
def sliding_scenarios(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]]]:
    window = draw(windows)
    limit = draw(st.integers(min_value=0, max_value=8))
    return window, limit, draw(steps(window, max_cost=3))


@st.composite
def bucket_scenarios(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]], list[int]]:
    window = draw(windows)
    capacity = draw(st.integers(min_value=1, max_value=20))
    played = draw(steps(window, max_cost=capacity + 1))
    # What each admitted request used beyond (or, negative, below) its reservation.
    settlements = draw(
        st.lists(
            st.integers(min_value=-capacity, max_value=capacity),
            min_size=len(played),
            max_size=len(played),
        )
    )
    return window, capacity, played, settlements


@examples
@given(sliding_scenarios())
def test_the_sliding_window_admits_what_the_model_admits_and_never_more_than_the_limit(
    scenario: tuple[int, int, list[tuple[int, int]]],
) -> None:
    window, limit, played = scenario
    key = fresh_key("rpm")
    model = SlidingWindowModel(window, limit)
    admitted_per_window: Counter[int] = Counter()

    async def play(lua: LuaFunctions) -> None:
        now = START
        for delta, cost in played:
            now += delta
            retry = await lua.sliding_admit(key, now, limit, cost, window)
            assert (retry == 0) == model.fits(now, cost)
            if retry == 0:
                admitted_per_window[model.take(now, cost)] += cost
            elif retry > 0:
                # The wait is exact: one ms earlier does not fit, at it does.
                assert await lua.sliding_check(key, now + retry - 1, limit, cost, window) != 0
                assert await lua.sliding_check(key, now + retry, limit, cost, window) == 0
            else:
                assert cost > limit

    with_lua(play)
    assert all(count <= limit for count in admitted_per_window.values())


@examples
@given(bucket_scenarios())
def test_the_token_bucket_admits_what_the_model_admits_and_its_waits_are_exact(
    scenario: tuple[int, int, list[tuple[int, int]], list[int]],
) -> None:
    window, capacity, played, settlements = scenario
    key = fresh_key("tpm")
    model = TokenBucketModel(window, capacity)

    async def play(lua: LuaFunctions) -> None:
        now = START
        for (delta, cost), extra in zip(played, settlements, strict=True):
            now += delta
            retry = await lua.bucket_admit(key, now, capacity, cost, window)
            assert (retry == 0) == model.fits(now, cost)
            if retry == 0:
                model.take(now, cost)
                level = await lua.bucket_take(key, now, capacity, extra, window)
                model.take(now, extra)
                assert model.level is not None
                assert level == model.level.__floor__()
            elif retry > 0:
                assert await lua.bucket_check(key, now + retry - 1, capacity, cost, window) != 0
                assert await lua.bucket_check(key, now + retry, capacity, cost, window) == 0
            else:
                assert cost > capacity

    with_lua(play)


@examples
@given(bucket_scenarios())
def test_the_token_bucket_never_admits_more_than_capacity_plus_the_refill(
    scenario: tuple[int, int, list[tuple[int, int]], list[int]],
) -> None:
    window, capacity, played, settlements = scenario
    key = fresh_key("tpm")
    instants = list(itertools.accumulate((delta for delta, _ in played), initial=START))[1:]
    admitted = 0

    async def play(lua: LuaFunctions) -> None:
        nonlocal admitted
        for now, (_, cost), extra in zip(instants, played, settlements, strict=True):
            if await lua.bucket_admit(key, now, capacity, cost, window) == 0:
                admitted += cost
                # Usage above the reservation only: refunds would rightly admit more.
                await lua.bucket_take(key, now, capacity, abs(extra), window)

    with_lua(play)
    # A full bucket at the first request, refilled only as the latest clock moves on.
    refilled = Fraction((max(instants) - instants[0]) * capacity, window)
    assert admitted <= capacity + refilled
