"""A budget's life for one request, in the order it happens; the stages call these and no more.

1. Cap (admission): `within_caps` drops the candidates a per-request budget
   cannot cover, or refuses the request (402) if a blocking one is passed first.
2. Reserve (admission): `Reservations.reserve` takes the key's rate limits and
   reserves the first candidate's worst-case cost in every budget counter the
   request falls under, in one Redis call (lua/admit.lua), all or nothing:
   else 429, 402 (`refusal`: which budget, what it has left, what this request
   may cost) or 503 (the store is unreachable or rebuilding: fail closed).
3. Hold to it (upstream): `held_to` writes the output limit reserved for into
   the upstream request when the client set none.
4. Move on failover (upstream): `Reservations.move` gives a failed attempt's
   reservation back and reserves for the next candidate the budgets can cover,
   in one atomic step; when none fits, the failover chain ends there.
5. Cut on overrun (upstream relay): `overran` turns true once the provider
   reports more tokens than were reserved; the stream is cut, not overspent.
6. Price and tell (upstream): `answer_headers` prices the answer
   (ctx.cost_nano) and gives x-selixes-cost-usd and, under a budget,
   x-selixes-budget-remaining-usd (CONTRACT.md section 5).
7. Settle (record): `settle` prices an answer the upstream stage could not
   finish (the client left: its worst case) and returns the settlement
   (lua/settle.lua) that the usage emitter runs in its next pipelined flush:
   the charge in, never above the hold (Hold.charge_for), the reservation out.
   A request whose proxy died is charged its reservation by the reaper
   (budgets/ledger.py) once its deadline passes.

The Redis calls themselves are gateway.proxy.budget.engine's; the keys they
touch, gateway.shared.budget_layout's.
"""

from __future__ import annotations

import logging
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import redis.exceptions

from gateway.proxy.budget import engine
from gateway.proxy.budget.engine import Admitted, Candidate, Exhausted, Hold, NotReady
from gateway.proxy.budget.plan import KeyPlan
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import BudgetExceeded, RateLimited, ServiceUnavailable
from gateway.proxy.limits import Rejection
from gateway.proxy.lua_scripts import ScriptCall
from gateway.proxy.providers.base import JSON, Usage
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.shared.money import NANO_PER_USD, nano_to_usd
from gateway.shared.snapshot import BudgetEntry

log = logging.getLogger(__name__)


class Reservations:
    """Reserve at admission and move on failover: the two budget steps that wait on Redis."""

    def __init__(
        self, client: AsyncRedisClient, reservation_ttl_s: float, script_flags: str = ""
    ) -> None:
        self.client = client
        self.script_flags = script_flags
        # A reservation not settled by then is charged at its estimate by the
        # reaper (its proxy died). Longer than any request may run.
        self.reservation_ttl_ms = int(reservation_ttl_s * 1000)

    async def reserve(self, ctx: RequestContext, plan: KeyPlan, offers: list[Candidate]) -> None:
        """Take the rate limits and reserve for the first offer every budget covers; or raise."""
        assert ctx.tenant is not None
        budgets, limits = plan.budgets, plan.limits
        ctx.offers = offers
        if not budgets.counters and not limits:
            ctx.offer = offers[0]
            return
        hold = Hold(
            org_id=ctx.tenant["org_id"],
            request_id=ctx.request_id,
            counters=budgets.counters,
            token_limits=[limit for limit in limits if limit.kind == "tpm"],
            tokens_taken=ctx.input_token_bound,
        )
        now_ms = int(time.time() * 1000)
        try:
            outcome = await engine.admit(
                self.client,
                hold,
                limits,
                offers,
                now_ms,
                now_ms + self.reservation_ttl_ms,
                self.script_flags,
            )
        except redis.exceptions.RedisError as e:
            # Fail closed: there is no switch that serves a budgeted request unchecked.
            raise ServiceUnavailable(
                "The gateway cannot check budgets and rate limits right now; retry shortly.",
                code="budget_store_unavailable",
            ) from e
        if isinstance(outcome, Rejection):
            unit = "requests" if outcome.limit.kind == "rpm" else "tokens"
            raise RateLimited(
                f"Rate limit of {outcome.limit.limit} {unit} per minute"
                f" for this {outcome.limit.scope} reached.",
                outcome.retry_after_s,
            )
        if isinstance(outcome, Exhausted):
            offer = offers[outcome.candidate_index]
            raise refusal(outcome.counter.budget, outcome.room_nano, offer)
        if isinstance(outcome, NotReady):
            raise ServiceUnavailable(
                "Budget counters are being restored; retry in a second.",
                code="budget_counters_rebuilding",
            )
        assert isinstance(outcome, Admitted)
        ctx.hold = hold
        ctx.offers = offers[outcome.index :]
        ctx.offer = ctx.offers[0]

    async def move(self, ctx: RequestContext, rest: list[Candidate]) -> int | None:
        """Move the request's reservation to the first of `rest` that fits; its index or None."""
        assert ctx.hold is not None
        now_ms = int(time.time() * 1000)
        try:
            outcome = await engine.move_to(
                self.client,
                ctx.hold,
                rest,
                now_ms,
                now_ms + self.reservation_ttl_ms,
                self.script_flags,
            )
        except redis.exceptions.RedisError:
            log.warning("budget store unreachable on failover request_id=%s", ctx.request_id)
            return None  # fail closed: no unreserved attempt
        return outcome.index if isinstance(outcome, Admitted) else None


def within_caps(offers: list[Candidate], caps: list[BudgetEntry]) -> list[Candidate]:
    """Drop candidates above a per-request cap; refuse if a blocking cap is passed first."""
    if not caps:
        return offers
    kept: list[Candidate] = []
    for offer in offers:
        above = [cap for cap in caps if offer.worst_case_nano > cap["limit_nano"]]
        if not above:
            kept.append(offer)
            continue
        if any(cap["on_exhausted"] == "block" for cap in above):
            raise refusal(above[0], above[0]["limit_nano"], offer)
    if not kept:
        raise refusal(caps[0], caps[0]["limit_nano"], offers[-1])
    return kept


_SCOPES = {
    "org": "organization",
    "team": "team",
    "project": "project",
    "user": "user",
    "key": "key",
}
# (per <period>, when what is left is left)
_PERIODS = {"day": ("per day", " today"), "month": ("per month", " this month"), "total": ("", "")}


def refusal(budget: BudgetEntry, room_nano: int, offer: Candidate) -> BudgetExceeded:
    """The 402 for `budget`: what it has left, and what this request could cost at worst.

    It is the tenant's own budget and deployment, so nothing crosses tenants;
    no other budget of the request is named.
    """
    scope = _SCOPES.get(budget["scope"], budget["scope"])
    limit, worst = usd(budget["limit_nano"]), usd(offer.worst_case_nano, up=True)
    model = offer.deployment["model"]
    if budget["period"] == "request":
        return BudgetExceeded(
            f"The {scope} budget of {limit} per request cannot cover this request,"
            f" which may cost up to {worst} on {model}."
        )
    per, when = _PERIODS.get(budget["period"], (f"per {budget['period']}", ""))
    of = f"{limit} {per}" if per else limit
    return BudgetExceeded(
        f"The {scope} budget of {of} has {usd(max(room_nano, 0))} left{when};"
        f" this request may cost up to {worst} on {model}."
    )


def usd(nano: int, up: bool = False) -> str:
    """`$1.50`, `$0.005`: cents at least, more places only where they hold a digit.

    What is left rounds down and what a request may cost rounds up, so the
    message never promises room that is not there.
    """
    amount = (Decimal(nano) / NANO_PER_USD).quantize(
        Decimal("0.000001"), rounding=ROUND_CEILING if up else ROUND_FLOOR
    )
    text = f"{amount:f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def held_to(canonical: JSON, offer: Candidate) -> JSON:
    """The request as sent to `offer`: never allowed more output than was reserved for."""
    if offer.injected_max_tokens is None:
        return canonical
    return {**canonical, "max_completion_tokens": offer.injected_max_tokens}


def overran(ctx: RequestContext, usage: Usage) -> bool:
    """True once a provider reports more tokens than the request's reservation assumed."""
    offer = ctx.offer
    if offer is None:
        return False
    return usage.output_tokens > offer.max_output_tokens or (
        usage.input_tokens > ctx.input_token_bound
    )


def price_answer(ctx: RequestContext) -> int:
    """Price the answer at what the provider reported (ctx.cost_nano); return it."""
    assert ctx.offer is not None
    ctx.cost_nano = ctx.offer.cost_of(ctx.usage)
    return ctx.cost_nano


def answer_headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    """Price the answer (ctx.cost_nano) and return the headers that tell the client."""
    cost = price_answer(ctx)
    headers = [(b"x-selixes-cost-usd", nano_to_usd(cost).encode())]
    hold = ctx.hold
    if hold is not None and hold.room_nano is not None:
        # The tightest budget's room once this request settles.
        room = hold.room_nano + hold.reserved_nano - min(cost, hold.reserved_nano)
        headers.append((b"x-selixes-budget-remaining-usd", nano_to_usd(max(room, 0)).encode()))
    return headers


def settle(ctx: RequestContext, script_flags: str = "") -> ScriptCall | None:
    """Price what the upstream stage could not, and return the settlement (None: nothing held).

    Every admitted request settles, whatever happened to it; a rejected one
    held nothing. An answer the client left before its end costs its worst
    case (Candidate.cost_of): the provider bills what it generated until it
    noticed.
    """
    if ctx.cost_nano is None and ctx.deployment is not None and ctx.offer is not None:
        ctx.cost_nano = ctx.offer.cost_of(ctx.usage, complete=not ctx.client_disconnected)
    if ctx.hold is None:
        return None
    used = ctx.usage.input_tokens + ctx.usage.output_tokens
    now_ms = int(time.time() * 1000)
    return engine.settle_call(ctx.hold, ctx.cost_nano or 0, used, now_ms, script_flags)
