"""Budgets as people see them: the scope's name, the current window and its live counters.

The counters live in Redis (gateway.shared.budget_windows.counter_key), where
the proxy reserves and settles; this reads them once per listing, in one
pipelined round trip.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import redis
from django.utils import timezone

from config.redis import get_redis
from gateway.budgets.models import Budget, Period, Scope
from gateway.shared.budget_windows import Window, counter_key, window_for
from gateway.shared.money import MICRO_PER_USD, NANO_PER_USD
from tenants.models import ApiKey, Organization, Project, Team, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counters:
    """nano-USD in the current window; `remaining` is rounded down to a whole micro-USD."""

    spent: int
    reserved: int
    remaining: int

    def used_percent(self, limit: int) -> int:
        """Spent plus reserved as a whole percentage of the limit, at most 100 (progress bars)."""
        return min(100, (self.spent + self.reserved) * 100 // limit) if limit > 0 else 100


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    scope_name: str
    # None for a per-request budget, which has no window and no counter.
    window: Window | None
    # None for a per-request budget, or when Redis could not be read.
    counters: Counters | None


def scope_names(org: Organization, budgets: Sequence[Budget]) -> dict[tuple[str, uuid.UUID], str]:
    """Name every budget's scope object in a handful of queries; a gone object is absent."""
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for budget in budgets:
        wanted[budget.scope].add(budget.scope_id)
    names: dict[tuple[str, uuid.UUID], str] = {(Scope.ORG, org.id): org.name}
    for team in Team.objects.filter(org=org, id__in=wanted[Scope.TEAM]).only("id", "name"):
        names[(Scope.TEAM, team.id)] = team.name
    projects = Project.objects.filter(org=org, id__in=wanted[Scope.PROJECT]).only("id", "name")
    for project in projects:
        names[(Scope.PROJECT, project.id)] = project.name
    # Users by id, members or not: a removed member's keys still count toward their budget.
    for user_id, email in User.objects.filter(id__in=wanted[Scope.USER]).values_list("id", "email"):
        names[(Scope.USER, user_id)] = email
    keys = ApiKey.objects.filter(org=org, id__in=wanted[Scope.KEY]).only("id", "prefix", "name")
    for key in keys:
        names[(Scope.KEY, key.id)] = str(key)
    return names


def _counters(budget: Budget, raw: dict[bytes, bytes]) -> Counters:
    # Both fields are integers the proxy's Lua keeps; a missing hash is an untouched window.
    spent = max(0, int(raw.get(b"spent", 0)))
    reserved = max(0, int(raw.get(b"reserved", 0)))
    remaining = max(0, budget.limit_nano - spent - reserved)
    # Shown amounts have six places and nano_to_usd rounds up, which is right
    # for what is used; what is left is cut down to a whole micro-USD instead,
    # so neither ever looks better than it is.
    remaining -= remaining % (NANO_PER_USD // MICRO_PER_USD)
    return Counters(spent=spent, reserved=reserved, remaining=remaining)


def budget_statuses(
    org: Organization, budgets: Sequence[Budget], at: datetime | None = None
) -> list[BudgetStatus]:
    """Each budget with its scope's name and its counters in the window containing `at` (now)."""
    at = at or timezone.now()
    org_id = str(org.id)
    windows = {
        budget.id: window_for(budget.period, at, org.timezone)
        for budget in budgets
        if budget.period != Period.REQUEST
    }
    counted = [budget for budget in budgets if budget.id in windows]
    raw: dict[uuid.UUID, dict[bytes, bytes]] = {}
    if counted:
        pipe = get_redis().pipeline(transaction=False)
        for budget in counted:
            pipe.hgetall(counter_key(org_id, str(budget.id), windows[budget.id].id))
        try:
            raw = dict(zip([b.id for b in counted], pipe.execute(), strict=True))
        except redis.RedisError:
            # The list still shows; the counters read as unknown, never as zero.
            log.exception("could not read budget counters of org=%s", org_id)
    names = scope_names(org, budgets)
    return [
        BudgetStatus(
            budget=budget,
            scope_name=names.get((budget.scope, budget.scope_id), f"deleted {budget.scope}"),
            window=windows.get(budget.id),
            counters=_counters(budget, raw[budget.id]) if budget.id in raw else None,
        )
        for budget in budgets
    ]
