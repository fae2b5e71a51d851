"""Router: a route's deployments in the order to try them, minus those that are blocked.

`plan()` is the hot path: no I/O, this process's health copy only (the
benchmark in tests/benchmarks/routing.py times it). `choose()` adds the
Redis calls of two cold paths: a deployment this process has not routed to
yet reads the shared state once before its first request (so a new process,
or one that just saw the route, honours a breaker or retry-after the others
set), and a half-open breaker asks for a probe.

Blocked means: breaker open (cooldown not over) or inside a 429's
retry-after. When every deployment is blocked:
  - if any is blocked by its breaker alone, the request is not refused: it
    goes to the least recently opened one, alone, as a probe (success closes
    its breaker, failure opens it anew). One attempt, so a fully broken route
    costs each request one try, not a walk through every dead deployment; a
    route of one deployment is therefore never refused by its breaker.
  - if every one is inside a provider's retry-after, the provider has said
    when to come back: the plan is empty and `retry_after_ms` says how long
    until the first may be tried (the route stage answers 503 with retry-after).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from gateway.proxy import metrics
from gateway.proxy.budget.input_bound import requested_max_output_tokens
from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.pricing import PriceTable, price_for
from gateway.proxy.pricing.model_price import ModelPrice
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.proxy.routing.breaker import Phase
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.gauges import RoutingGauges
from gateway.proxy.routing.health import DeploymentHealth, HealthBook, now_ms
from gateway.proxy.routing.strategies import cost_order, latency_order, weighted_order
from gateway.proxy.routing.sync import HealthSync
from gateway.shared.snapshot import DeploymentEntry, RouteEntry, Snapshot

# The cost strategy's expected answer: this many tokens, or the request's limit if lower.
EXPECTED_OUTPUT_TOKENS = 256
# Bytes of request body per expected prompt token (a rough, cheap estimate).
BYTES_PER_TOKEN = 4
_PRICE_CACHE_MAX = 4096


@dataclass(slots=True)
class Plan:
    candidates: list[DeploymentEntry]
    half_open: list[tuple[DeploymentEntry, DeploymentHealth]] = field(default_factory=list)
    probing: set[str] = field(default_factory=set)
    # Deployments this process had not seen before this plan (their shared state unread).
    unseen: list[DeploymentHealth] = field(default_factory=list)
    # No candidates: every deployment is inside a retry-after that ends this many ms from now.
    retry_after_ms: int = 0
    # What each candidate's breaker said when it was chosen (closed | half_open | open),
    # by deployment id: the usage event's attempts record it (a probe is not a healthy pick).
    health: dict[str, Phase] = field(default_factory=dict)


class Router:
    def __init__(
        self,
        config: RoutingConfig,
        book: HealthBook,
        prices: PriceTable,
        sync: HealthSync | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.book = book
        self.prices = prices
        self.sync = sync
        self.random = (rng or random.Random()).random  # noqa: S311  # spreading load, no secret
        self._prices: dict[tuple[str, int, str, int], ModelPrice | None] = {}

    def order(
        self,
        tenant: Snapshot,
        route: RouteEntry,
        healths: list[DeploymentHealth],
        input_tokens: int,
        output_tokens: int,
    ) -> list[int]:
        """Return the route's deployment indexes in the strategy's order."""
        deployments = route["deployments"]
        indexes = list(range(len(deployments)))
        strategy = route["strategy"]
        if strategy == "latency":
            scores = [health.latency_score() for health in healths]
            return latency_order(indexes, scores, self.random, self.config.exploration)
        if strategy == "weighted":
            return weighted_order(indexes, [d["weight"] for d in deployments], self.random)
        if strategy == "cost":
            costs = [self._cost(tenant, d, input_tokens, output_tokens) for d in deployments]
            qualities = [d["quality"] for d in deployments]
            return cost_order(indexes, costs, qualities, route["min_quality"])
        return indexes

    def plan(
        self,
        tenant: Snapshot,
        route: RouteEntry,
        input_tokens: int = 0,
        output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    ) -> Plan:
        """Order the route by its strategy, leaving out blocked deployments (no I/O)."""
        org_id = tenant["org_id"]
        deployments = route["deployments"]
        now = now_ms()
        book = self.book
        unseen: list[DeploymentHealth] = []
        healths: list[DeploymentHealth] = []
        for deployment in deployments:
            known = book.known(org_id, deployment["id"])
            health = book.get(org_id, deployment["id"])
            healths.append(health)
            if not known:
                unseen.append(health)
        cooldown_ms = self.config.breaker.cooldown_ms
        kept: list[DeploymentEntry] = []
        half_open: list[tuple[DeploymentEntry, DeploymentHealth]] = []
        first_opened, first_opened_ms = -1, math.inf
        retry_until = math.inf
        for index in self.order(tenant, route, healths, input_tokens, output_tokens):
            health = healths[index]
            health.last_used_ms = now
            if health.retry_until_ms > now:
                retry_until = min(retry_until, health.retry_until_ms)
            elif not health.breaker.open:
                kept.append(deployments[index])
            elif now >= health.breaker.opened_ms + cooldown_ms:
                half_open.append((deployments[index], health))
            elif health.breaker.opened_ms < first_opened_ms:
                first_opened, first_opened_ms = index, health.breaker.opened_ms
        if kept or half_open:
            phases: dict[str, Phase] = dict.fromkeys((d["id"] for d in kept), "closed")
            phases.update((d["id"], "half_open") for d, _ in half_open)
            return Plan(kept, half_open, unseen=unseen, health=phases)
        if first_opened >= 0:
            only = deployments[first_opened]
            return Plan([only], probing={only["id"]}, unseen=unseen, health={only["id"]: "open"})
        return Plan([], unseen=unseen, retry_after_ms=max(int(retry_until) - now, 1))

    async def close(self) -> None:
        if self.sync is not None:
            await self.sync.close()

    async def choose(
        self,
        tenant: Snapshot,
        route: RouteEntry,
        input_tokens: int = 0,
        output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    ) -> Plan:
        """plan(), after reading unseen deployments' shared state; half-open probes settled."""
        plan = self.plan(tenant, route, input_tokens, output_tokens)
        if plan.unseen and self.sync is not None:
            await self.sync.load(plan.unseen)
            plan = self.plan(tenant, route, input_tokens, output_tokens)
        plan.candidates = await self.candidates(plan)
        return plan

    async def candidates(self, plan: Plan) -> list[DeploymentEntry]:
        """Settle the half-open deployments: one granted probe goes first, the rest wait.

        One probe per request: a request uses at most one, and a probe slot
        granted but never used stays taken (for every process) until it
        expires, keeping a recovered deployment out for another cooldown.
        """
        if not plan.half_open:
            return plan.candidates
        first: list[DeploymentEntry] = []
        for deployment, health in plan.half_open:
            if first:
                break
            verdict = "probe" if self.sync is None else await self.sync.try_probe(health)
            if verdict == "probe":
                first.append(deployment)
                plan.probing.add(deployment["id"])
            elif verdict == "closed":  # another process's probe closed it meanwhile
                plan.candidates.append(deployment)
                plan.health[deployment["id"]] = "closed"
        if not first and not plan.candidates:
            # Every deployment is open and their probes are taken: the earliest opened
            # goes alone, as any fully blocked route does (module docstring).
            deployment, _ = min(plan.half_open, key=lambda pair: pair[1].breaker.opened_ms)
            first.append(deployment)
            plan.probing.add(deployment["id"])
        return first + plan.candidates

    def _cost(
        self, tenant: Snapshot, deployment: DeploymentEntry, input_tokens: int, output_tokens: int
    ) -> int | None:
        """Pico-USD of the expected request on this deployment; None = no price."""
        # By UTC day too: price lists change on a given day (pricing.lookup).
        key = (tenant["org_id"], tenant["version"], deployment["id"], int(time.time() // 86_400))
        if key in self._prices:
            price = self._prices[key]
        else:
            try:
                price = price_for(deployment, tenant.get("budget_defaults"), self.prices)
            except MisconfiguredDeployment:
                price = None
            if len(self._prices) >= _PRICE_CACHE_MAX:
                self._prices.clear()
            self._prices[key] = price
        if price is None:
            return None
        tier = price.for_prompt(input_tokens)
        return tier.input * input_tokens + tier.output * output_tokens


def expected_size(
    payload: dict[str, Any], body_bytes: int, dialect: str, operation: str
) -> tuple[int, int]:
    """The request's expected (input, output) tokens, for the cost strategy."""
    input_tokens = body_bytes // BYTES_PER_TOKEN
    if operation != "chat":
        return input_tokens, 0
    try:
        requested = requested_max_output_tokens(payload, dialect)
    except Exception:  # an invalid limit is admission's to refuse, with its message
        requested = None
    # The request's limit bounds the answer; most answers stay well below it.
    return input_tokens, min(requested or EXPECTED_OUTPUT_TOKENS, EXPECTED_OUTPUT_TOKENS)


def start_router(
    client: AsyncRedisClient, prices: PriceTable, config: RoutingConfig, script_flags: str = ""
) -> Router:
    """The process's router, its health sync running (stop it with `router.close()`)."""
    book = HealthBook()
    sync = HealthSync(client, book, config, script_flags)
    sync.start()
    metrics.register_collector("routing", RoutingGauges(book, config))
    return Router(config, book, prices, sync)
