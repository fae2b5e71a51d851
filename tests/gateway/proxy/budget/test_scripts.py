"""The budget scripts on real Redis, standalone and a cluster: admit, settle, reap, rebuild."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.proxy.budget import engine
from gateway.proxy.budget.engine import Admitted, Candidate, Exhausted, Hold, NotReady
from gateway.proxy.budget.plan import budget_plan
from gateway.proxy.limits import Rejection, limit_plan
from gateway.proxy.lua_scripts import LuaScript, run_script
from gateway.proxy.pricing.model_price import ModelPrice
from gateway.proxy.providers.base import Usage
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.shared import budget_layout as layout
from gateway.shared.snapshot import DeploymentEntry, Snapshot
from tests.factories.snapshots import ORG, budget, key_entry, tenant

# Real time: counters expire after their window, and Redis expires by its own clock.
NOW_MS = int(time.time() * 1000)
AT = datetime.fromtimestamp(NOW_MS / 1000, UTC)
DEADLINE_MS = NOW_MS + 60_000
PRICE = ModelPrice(input=0, cached_input=0, cache_write=0, output=1_000_000, reasoning=1_000_000)


def offer(worst_nano: int, name: str = "m") -> Candidate:
    deployment: dict[str, Any] = {"id": name, "provider": "openai", "model": name}
    return Candidate(DeploymentEntry(**deployment), PRICE, 100, worst_nano)  # type: ignore[typeddict-item]


def hold_for(snapshot: Snapshot, request_id: str = "req-1") -> Hold:
    key = next(iter(snapshot["keys"].values()))
    return Hold(ORG, request_id, budget_plan(snapshot, key, AT).counters, [], 0)


async def ready(client: AsyncRedisClient) -> None:
    await client.set(layout.ready_key(ORG), "1")


async def counter(client: AsyncRedisClient, snapshot: Snapshot, index: int = 0) -> dict[str, int]:
    key = hold_for(snapshot).counters[index].key
    raw = await client.hgetall(key)
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


async def admit(client: AsyncRedisClient, hold: Hold, *offers: Candidate) -> object:
    return await engine.admit(client, hold, [], list(offers), NOW_MS, DEADLINE_MS)


async def settle(client: AsyncRedisClient, hold: Hold, cost: int) -> bytes:
    call = engine.settle_call(hold, cost, 0, NOW_MS)
    reply = await run_script(client, call.script, call.keys, call.args)
    assert isinstance(reply, list)
    outcome = reply[0]
    assert isinstance(outcome, bytes)
    return outcome


async def test_a_reservation_goes_into_every_counter_or_none(lua_client: AsyncRedisClient) -> None:
    snapshot = tenant(budget("b-org", 1000), budget("b-team", 300, "team"))
    await ready(lua_client)
    first = hold_for(snapshot, "r1")
    assert await admit(lua_client, first, offer(200)) == Admitted(0)
    assert await counter(lua_client, snapshot, 0) == {"reserved": 200}
    assert await counter(lua_client, snapshot, 1) == {"reserved": 200}
    # The team budget has 100 left: the org budget (700 left) must not move either.
    refused = await admit(lua_client, hold_for(snapshot, "r2"), offer(150))
    assert isinstance(refused, Exhausted) and refused.counter.budget["id"] == "b-team"
    assert await counter(lua_client, snapshot, 0) == {"reserved": 200}
    assert await lua_client.hlen(layout.reservations_key(ORG)) == 1


async def test_settling_charges_the_actual_cost_and_releases_the_reservation(
    lua_client: AsyncRedisClient,
) -> None:
    snapshot = tenant(budget("b", 1000))
    await ready(lua_client)
    hold = hold_for(snapshot)
    await admit(lua_client, hold, offer(400))
    assert await settle(lua_client, hold, 150) == b"settled"
    assert await counter(lua_client, snapshot) == {"spent": 150, "reserved": 0}
    assert await lua_client.hlen(layout.reservations_key(ORG)) == 0
    assert await lua_client.zcard(layout.deadlines_key(ORG)) == 0


async def test_a_settlement_sent_twice_charges_once(lua_client: AsyncRedisClient) -> None:
    # A flush retried after its connection broke may carry a settlement Redis
    # already ran; without a reservation it would otherwise be charged again.
    snapshot = tenant(budget("b", 1000))
    await ready(lua_client)
    hold = hold_for(snapshot)
    await admit(lua_client, hold, offer(400))
    assert await settle(lua_client, hold, 150) == b"settled"
    assert await settle(lua_client, hold, 150) == b"repeated"
    assert await counter(lua_client, snapshot) == {"spent": 150, "reserved": 0}
    # The marker expires: nothing is kept per request for long.
    assert await lua_client.pttl(layout.settled_key(ORG, hold.request_id)) > 0


async def test_a_charge_never_exceeds_the_reservation(lua_client: AsyncRedisClient) -> None:
    snapshot = tenant(budget("b", 1000))
    await ready(lua_client)
    hold = hold_for(snapshot)
    await admit(lua_client, hold, offer(400))
    await settle(lua_client, hold, 5000)  # a provider that miscounted
    assert await counter(lua_client, snapshot) == {"spent": 400, "reserved": 0}


async def test_fallback_budgets_pass_to_a_cheaper_candidate_blocking_ones_refuse(
    lua_client: AsyncRedisClient,
) -> None:
    await ready(lua_client)
    falls_back = tenant(budget("b", 100, on_exhausted="fallback"))
    outcome = await admit(lua_client, hold_for(falls_back, "r1"), offer(500, "big"), offer(80))
    assert outcome == Admitted(1)
    blocks = tenant(budget("c", 100, on_exhausted="block"))
    outcome = await admit(lua_client, hold_for(blocks, "r2"), offer(500, "big"), offer(80))
    assert isinstance(outcome, Exhausted) and outcome.candidate_index == 0
    assert await counter(lua_client, blocks) == {}


async def test_lost_counters_admit_nobody_until_rebuilt(lua_client: AsyncRedisClient) -> None:
    snapshot = tenant(budget("b", 1000))
    hold = hold_for(snapshot)
    assert isinstance(await admit(lua_client, hold, offer(10)), NotReady)
    rebuild = LuaScript.from_files("rebuild")
    keys = [layout.ready_key(ORG), layout.reservations_key(ORG), layout.deadlines_key(ORG)]
    keys.append(hold.counters[0].key)
    assert await run_script(lua_client, rebuild, keys, [990, 0]) == 1
    assert await run_script(lua_client, rebuild, keys, [0, 0]) == 0  # only once
    assert await counter(lua_client, snapshot) == {"spent": 990, "reserved": 0}
    assert isinstance(await admit(lua_client, hold, offer(11)), Exhausted)
    assert await admit(lua_client, hold, offer(10)) == Admitted(0)


async def test_the_reaper_charges_a_dead_proxys_reservation_once(
    lua_client: AsyncRedisClient,
) -> None:
    snapshot = tenant(budget("b", 1000))
    await ready(lua_client)
    hold = hold_for(snapshot)
    await admit(lua_client, hold, offer(300))
    reap = LuaScript.from_files("budget_counters", "reap")
    keys = [
        layout.reservations_key(ORG),
        layout.deadlines_key(ORG),
        layout.tombstone_key(ORG, hold.request_id),
        hold.counters[0].key,
    ]
    # Before its deadline a reservation is left alone.
    assert await run_script(lua_client, reap, keys, [hold.request_id, NOW_MS, 60_000]) == -1
    assert await run_script(lua_client, reap, keys, [hold.request_id, DEADLINE_MS, 60_000]) == 300
    assert await counter(lua_client, snapshot) == {"spent": 300, "reserved": 0}
    # The proxy was only slow: its late settlement adds nothing.
    assert await settle(lua_client, hold, 120) == b"reaped"
    assert await counter(lua_client, snapshot) == {"spent": 300, "reserved": 0}


async def test_a_request_the_budget_refuses_is_not_counted_by_the_rate_limit(
    lua_client: AsyncRedisClient,
) -> None:
    snapshot = tenant(budget("b", 100), key=key_entry(rpm=1))
    await ready(lua_client)
    key = next(iter(snapshot["keys"].values()))
    limits = limit_plan(snapshot, key)
    refused = await engine.admit(
        lua_client, hold_for(snapshot, "r1"), limits, [offer(500)], NOW_MS, DEADLINE_MS
    )
    assert isinstance(refused, Exhausted)
    admitted = await engine.admit(
        lua_client, hold_for(snapshot, "r2"), limits, [offer(50)], NOW_MS, DEADLINE_MS
    )
    assert admitted == Admitted(0)  # the one request per minute was still there
    limited = await engine.admit(
        lua_client, hold_for(snapshot, "r3"), limits, [offer(10)], NOW_MS, DEADLINE_MS
    )
    assert isinstance(limited, Rejection)
    assert await counter(lua_client, snapshot) == {"reserved": 50}  # r3 reserved nothing


async def test_moving_a_reservation_on_failover(lua_client: AsyncRedisClient) -> None:
    snapshot = tenant(budget("b", 1000, on_exhausted="fallback"))
    await ready(lua_client)
    hold = hold_for(snapshot)
    primary, dear, cheap = offer(600, "primary"), offer(900, "dear"), offer(200, "cheap")
    await admit(lua_client, hold, primary, dear, cheap)
    # The primary failed: its 600 go back; "dear" would fit alone, so it is next.
    moved = await engine.move_to(lua_client, hold, [dear, cheap], NOW_MS, DEADLINE_MS)
    assert moved == Admitted(0)
    assert await counter(lua_client, snapshot) == {"reserved": 900}
    assert await settle(lua_client, hold, 700) == b"settled"
    assert await counter(lua_client, snapshot) == {"spent": 700, "reserved": 0}


async def test_concurrent_admissions_never_reserve_past_the_limit(
    lua_client: AsyncRedisClient,
) -> None:
    snapshot = tenant(budget("b", 10_000))
    await ready(lua_client)
    holds = [hold_for(snapshot, f"r{i}") for i in range(200)]
    connections = asyncio.Semaphore(50)  # the client's pool is bounded

    async def one(hold: Hold) -> object:
        async with connections:
            return await admit(lua_client, hold, offer(100))

    outcomes = await asyncio.gather(*(one(h) for h in holds))
    assert sum(isinstance(o, Admitted) for o in outcomes) == 100
    assert await counter(lua_client, snapshot) == {"reserved": 10_000}


operations = st.lists(
    st.tuples(st.integers(1, 400), st.integers(0, 500), st.booleans()), min_size=1, max_size=30
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=operations, limit=st.integers(1, 3000))
async def test_spent_never_passes_the_limit(
    standalone_client: AsyncRedisClient, steps: list[tuple[int, int, bool]], limit: int
) -> None:
    """Any interleaving of admissions and settlements keeps spent + reserved <= limit."""
    await standalone_client.flushdb()
    snapshot = tenant(budget("b", limit))
    await ready(standalone_client)
    open_holds: list[Hold] = []
    for n, (worst, actual, settle_now) in enumerate(steps):
        hold = hold_for(snapshot, f"r{n}")
        if isinstance(await admit(standalone_client, hold, offer(worst)), Admitted):
            open_holds.append(hold)
        if settle_now and open_holds:
            await settle(standalone_client, open_holds.pop(0), actual)
        state = await counter(standalone_client, snapshot)
        assert state.get("spent", 0) + state.get("reserved", 0) <= limit
    for hold in open_holds:
        await settle(standalone_client, hold, 10**9)
    state = await counter(standalone_client, snapshot)
    assert state.get("reserved", 0) == 0 and state.get("spent", 0) <= limit


def test_an_answer_of_unknown_usage_costs_its_worst_case() -> None:
    candidate = offer(5000)
    assert candidate.cost_of(Usage(input_tokens=0, output_tokens=3)) == 3000
    # The client left before the final usage report: the provider billed on.
    assert candidate.cost_of(Usage(input_tokens=0, output_tokens=3), complete=False) == 5000
    # A provider that reports no usage at all (Gemini's embeddings).
    assert candidate.cost_of(Usage()) == 5000
