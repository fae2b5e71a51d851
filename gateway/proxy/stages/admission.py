"""Admission stage: price the candidates, then rate limits and budget reservation in one Redis call.

For each candidate deployment the worst case is priced: its price (route
override, then the pricing table, then the org's default price; a model with
no price is never served) times the input token bound plus the max output
tokens. Per-request caps drop (or, if they block, refuse) candidates above
them. Then lua/admit.lua takes the rate limits and reserves in every budget
counter for the first candidate all counters can cover: 429, 402 or go
(gateway.proxy.budget.hold, where a budget's whole life is told).

DESIGN.md draws limits and budget as two stages; they are one here because
the issue's speed target allows one Redis round trip for both, and because a
request the budget refuses must not be counted by the limits either.
"""

from __future__ import annotations

import sys

from gateway.proxy.budget.engine import Candidate
from gateway.proxy.budget.hold import within_caps
from gateway.proxy.budget.input_bound import (
    input_token_bound,
    max_output_tokens,
    requested_max_output_tokens,
)
from gateway.proxy.budget.plan import PlanCache
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import PriceUnknown
from gateway.proxy.http import ASGIApp, Receive, Scope, Send
from gateway.proxy.pricing import price_for
from gateway.proxy.pricing.model_price import worst_case_cost_nano
from gateway.proxy.pricing.request_terms import (
    STANDARD,
    no_priority_price,
    price_under,
    request_terms,
)
from gateway.proxy.stages.deps import StageDeps

# The output limit of a model no price list knows (self-hosted), when neither the
# request nor the org sets one; enforced upstream like any other limit.
UNKNOWN_MODEL_MAX_OUTPUT = 4096
# No reservation, no bound: such a request is never cut for its size.
UNBOUNDED = sys.maxsize


class AdmissionStage:
    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        self.app = app
        self.prices = deps.prices
        self.reservations = deps.reservations
        self.plans = PlanCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._admit(scope["state"]["ctx"])
        await self.app(scope, receive, send)

    def _candidates(self, ctx: RequestContext, budgeted: bool) -> list[Candidate]:
        """Price each deployment; under a budget, also its worst case and output limit."""
        assert ctx.tenant is not None
        defaults = ctx.tenant.get("budget_defaults")
        requested = requested_max_output_tokens(ctx.payload, ctx.dialect)
        terms = STANDARD
        if ctx.operation == "chat":
            # Fields that raise the provider's rate price every candidate, budget or not:
            # the settlement (the request's recorded cost) uses the same price.
            terms = request_terms(ctx.payload, ctx.dialect, ctx.candidates)
        offers: list[Candidate] = []
        unpriced: list[str] = []
        beyond_terms = 0  # candidates with no rate for the request's terms
        for deployment in ctx.candidates:
            listed = price_for(deployment, defaults, self.prices)
            if listed is None:
                unpriced.append(f"{deployment['provider']}/{deployment['model']}")
                continue
            price = price_under(listed, terms, deployment["provider"])
            if price is None:
                beyond_terms += 1  # no rate for these terms: never sent at the standard one
                continue
            if not budgeted:
                # Nothing to reserve: the request goes as the client wrote it.
                offers.append(Candidate(deployment, price, UNBOUNDED, 0))
                continue
            payload, injected = ctx.payload, None
            if ctx.operation == "chat" and requested is None:
                # The request sets no limit: hold it to the org's default, else the
                # model's maximum, else UNKNOWN_MODEL_MAX_OUTPUT, written into the
                # upstream request so the reservation is a true bound.
                injected = (
                    (defaults or {}).get("default_max_output_tokens")
                    or price.max_output_tokens
                    or UNKNOWN_MODEL_MAX_OUTPUT
                )
                payload = {**payload, "max_tokens": injected}
            output = max_output_tokens(payload, ctx.dialect, ctx.operation, defaults, price)
            assert output is not None  # a limit is set by now
            worst = worst_case_cost_nano(price, ctx.input_token_bound, output)
            offers.append(Candidate(deployment, price, output, worst, injected))
        if not offers:
            # Fail closed: a request whose cost cannot be known is never sent.
            if beyond_terms:
                raise no_priority_price()
            raise PriceUnknown(
                f"No price is known for {', '.join(unpriced)}. Give the route's deployment a"
                " price, or set the organization's default price.",
            )
        return offers

    async def _admit(self, ctx: RequestContext) -> None:
        assert ctx.tenant is not None and ctx.key is not None
        plan = self.plans.plan(ctx.tenant, ctx.key, ctx.arrived_at)
        if plan.budgets or plan.limits:  # token limits take the prompt's bound too
            ctx.input_token_bound = input_token_bound(ctx.payload, ctx.dialect, ctx.operation)
        offers = within_caps(self._candidates(ctx, bool(plan.budgets)), plan.budgets.caps)
        await self.reservations.reserve(ctx, plan, offers)
