"""The budget engine's Redis calls: admit (limits + reservation), move on failover, settle.

One admission is one script call (lua/admit.lua): the request's rate limits
and a reservation of its worst-case cost in every budget counter it falls
under, for the first candidate deployment every counter can cover, all or
nothing. The settlement (lua/settle.lua) rides in the usage emitter's next
pipelined flush, so a request waits on Redis once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import orjson

from gateway.proxy.budget.plan import Counter
from gateway.proxy.limits import Limit, Rejection, decode_rejection, encode_plan
from gateway.proxy.lua_scripts import (
    LuaScript,
    ScriptArg,
    ScriptCall,
    run_script,
)
from gateway.proxy.pricing.model_price import ModelPrice, actual_cost_nano
from gateway.proxy.providers.base import Usage
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.shared import budget_layout as layout
from gateway.shared.snapshot import DeploymentEntry


# By SELIXES_REDIS_SCRIPT_FLAGS (ProxySettings.redis_script_flags): one value per process.
@lru_cache(maxsize=2)
def admit_script(flags: str = "") -> LuaScript:
    return LuaScript.from_files(
        "sliding_window", "token_bucket", "limit_plan", "budget_counters", "admit", flags=flags
    )


@lru_cache(maxsize=2)
def settle_script(flags: str = "") -> LuaScript:
    return LuaScript.from_files(
        "sliding_window", "token_bucket", "budget_counters", "settle", flags=flags
    )


@dataclass(frozen=True)
class Candidate:
    """A deployment that may serve the request, and what it may cost at worst."""

    deployment: DeploymentEntry
    price: ModelPrice
    max_output_tokens: int  # all choices together: a stream past it is cut
    worst_case_nano: int
    # The per-choice output limit to write into the upstream request, when the
    # client set none (None: the client's own limit stands).
    injected_max_tokens: int | None = None

    def cost_of(self, usage: Usage, complete: bool = True) -> int:
        """What an answer with this usage costs, in nano-USD.

        An answer whose usage is unknown costs its worst case: the client left
        before the provider's final usage report (the provider bills what it
        generated until it noticed), or the provider reports none at all
        (Gemini's embeddings).
        """
        cost = actual_cost_nano(self.price, usage)
        if not complete or usage.input_tokens + usage.output_tokens == 0:
            return max(cost, self.worst_case_nano)
        return cost


@dataclass
class Hold:
    """What a request holds in Redis between admission and settlement."""

    org_id: str
    request_id: str
    counters: list[Counter]
    token_limits: list[Limit]  # the tpm limits the admission took `tokens_taken` from
    tokens_taken: int
    candidate: Candidate | None = None  # the one reserved for
    room_nano: int | None = None  # tightest counter's room after the reservation

    @property
    def reserved_nano(self) -> int:
        return self.candidate.worst_case_nano if self.candidate and self.counters else 0

    def charge_for(self, cost_nano: int) -> int:
        """What the budgets are charged for an answer costing `cost_nano`: never above the hold.

        Streams are cut and upstream requests capped at the output reserved
        for, so only a provider that miscounts can cost more; charging more
        would break "spent <= limit", so the excess shows in the request log
        (its cost) but not in the budget.
        """
        return min(cost_nano, self.reserved_nano) if self.counters else 0


@dataclass(frozen=True)
class Admitted:
    index: int  # into the candidates offered


@dataclass(frozen=True)
class Exhausted:
    counter: Counter
    candidate_index: int
    room_nano: int = 0  # what the counter had left for this request (limit - spent - reserved)


@dataclass(frozen=True)
class NotReady:
    """The org's counters were lost and are not rebuilt yet: admit nobody (fail closed)."""


Outcome = Admitted | Exhausted | Rejection | NotReady


def _admit_call(
    hold: Hold,
    limits: list[Limit],
    candidates: list[Candidate],
    now_ms: int,
    deadline_ms: int,
    flags: str,
) -> ScriptCall:
    org = hold.org_id
    plan = encode_plan(limits, hold.tokens_taken)
    keys = [layout.reservations_key(org), layout.deadlines_key(org), layout.ready_key(org)]
    keys += plan.keys
    keys += [counter.key for counter in hold.counters]
    counters = [
        [c.budget["limit_nano"], c.expire_at_ms, 1 if c.blocks else 0, c.label]
        for c in hold.counters
    ]
    amounts = [candidate.worst_case_nano for candidate in candidates]
    args: list[ScriptArg] = [
        now_ms,
        hold.request_id,
        deadline_ms,
        *plan.args,
        orjson.dumps(counters),
        orjson.dumps(amounts),
    ]
    return ScriptCall(admit_script(flags), keys, args)


def _decode(reply: object, hold: Hold, limits: list[Limit], candidates: list[Candidate]) -> Outcome:
    if not isinstance(reply, list) or len(reply) not in (3, 4):
        raise TypeError(f"admit.lua returned {reply!r}")
    status, first, second, *rest = reply
    if not isinstance(first, int) or not isinstance(second, int):
        raise TypeError(f"admit.lua returned {reply!r}")
    if status == b"ok":
        hold.candidate = candidates[first - 1]
        hold.room_nano = second if second >= 0 else None
        return Admitted(first - 1)
    if status == b"limited":
        rejection = decode_rejection(limits, first, second)
        assert rejection is not None
        return rejection
    if status == b"exhausted":
        room = rest[0] if rest and isinstance(rest[0], int) else 0
        return Exhausted(hold.counters[first - 1], second - 1, max(room, 0))
    if status == b"not_ready":
        return NotReady()
    raise TypeError(f"admit.lua returned {reply!r}")


async def admit(
    client: AsyncRedisClient,
    hold: Hold,
    limits: list[Limit],
    candidates: list[Candidate],
    now_ms: int,
    deadline_ms: int,
    flags: str = "",
) -> Outcome:
    """Take the limits and reserve for the first candidate that fits, in one call."""
    call = _admit_call(hold, limits, candidates, now_ms, deadline_ms, flags)
    reply = await run_script(client, call.script, call.keys, call.args)
    return _decode(reply, hold, [*limits], candidates)


async def move_to(
    client: AsyncRedisClient,
    hold: Hold,
    candidates: list[Candidate],
    now_ms: int,
    deadline_ms: int,
    flags: str = "",
) -> Outcome:
    """After a failed attempt: move the reservation to the first of `candidates` that fits.

    admit.lua gives back the failed attempt's reservation (it produced no
    tokens) and reserves anew in one atomic step; the rate limits were taken
    once for the request and are not taken again.
    """
    if not hold.counters:
        hold.candidate = candidates[0]
        return Admitted(0)
    hold.candidate = None
    return await admit(client, hold, [], candidates, now_ms, deadline_ms, flags)


def settle_call(
    hold: Hold, charge_nano: int, tokens_used: int, now_ms: int, flags: str = ""
) -> ScriptCall:
    """The settlement: `charge_nano` in, the reservation out; tpm limits get the difference."""
    org = hold.org_id
    keys = [
        layout.reservations_key(org),
        layout.deadlines_key(org),
        layout.ready_key(org),
        layout.tombstone_key(org, hold.request_id),
        layout.settled_key(org, hold.request_id),
        *(counter.key for counter in hold.counters),
        *(limit.redis_key for limit in hold.token_limits),
    ]
    args: list[ScriptArg] = [
        now_ms,
        hold.request_id,
        hold.charge_for(charge_nano),
        len(hold.counters),
        len(hold.token_limits),
    ]
    for limit in hold.token_limits:
        args += [limit.window_ms, limit.limit, tokens_used - hold.tokens_taken]
    return ScriptCall(settle_script(flags), keys, args)
