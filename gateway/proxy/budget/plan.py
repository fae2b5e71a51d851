"""Which budgets a request falls under: the counters to reserve in, and the per-request caps.

PlanCache keeps, per key, those budgets and the key's rate limits together:
everything admission checks that only a new snapshot or a new window changes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.proxy.limits import Limit, limit_plan
from gateway.shared.budget_layout import counter_key_of, label
from gateway.shared.budget_windows import window_for
from gateway.shared.snapshot import BudgetEntry, KeyEntry, Snapshot


@dataclass(frozen=True)
class Counter:
    """One budget's counter for the window the request falls in."""

    budget: BudgetEntry
    label: str  # "<budget id>:<window id>"
    key: str
    expire_at_ms: int  # 0 = never

    @property
    def blocks(self) -> bool:
        return self.budget["on_exhausted"] == "block"


@dataclass(frozen=True)
class BudgetPlan:
    counters: list[Counter]
    caps: list[BudgetEntry]  # period "request": a limit on one request's cost
    valid_until: float = float("inf")  # unix seconds: the first of its windows ends

    def __bool__(self) -> bool:
        return bool(self.counters or self.caps)


def _scope_ids(tenant: Snapshot, key: KeyEntry) -> dict[str, str | None]:
    return {
        "org": tenant["org_id"],
        "team": key["team_id"],
        "project": key["project_id"],
        "user": key["user_id"],
        "key": key["id"],
    }


def budget_plan(tenant: Snapshot, key: KeyEntry, at: datetime) -> BudgetPlan:
    """The budgets over this key's requests (its org, team, project, owner and itself) at `at`."""
    # .get: a snapshot published before budgets existed has no such field.
    budgets = tenant.get("budgets") or []
    if not budgets:
        return BudgetPlan([], [])
    scope_ids = _scope_ids(tenant, key)
    timezone = tenant["budget_defaults"]["timezone"]
    counters: list[Counter] = []
    caps: list[BudgetEntry] = []
    valid_until = float("inf")
    for budget in budgets:
        if scope_ids.get(budget["scope"]) != budget["scope_id"]:
            continue
        if budget["period"] == "request":
            caps.append(budget)
            continue
        window = window_for(budget["period"], at, timezone)
        if window.ends_at is not None:
            valid_until = min(valid_until, window.ends_at.timestamp())
        name = label(budget["id"], window.id)
        counters.append(
            Counter(budget, name, counter_key_of(tenant["org_id"], name), window.expire_at_ms())
        )
    return BudgetPlan(counters, caps, valid_until)


@dataclass(frozen=True)
class KeyPlan:
    """What admission checks for one key: its budgets' counters and caps, its rate limits."""

    budgets: BudgetPlan
    limits: list[Limit]


class PlanCache:
    """Key plans by org, snapshot version and key, until the first of their windows ends.

    Working out windows in the org's time zone for every budget cost more
    than the rest of admission together (py-spy, make bench); a plan only
    changes with the snapshot or when a window rolls over.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[str, int, str], KeyPlan] = OrderedDict()

    def plan(self, tenant: Snapshot, key: KeyEntry, at: float) -> KeyPlan:
        """The plan at unix time `at` (a datetime is only made when a plan is worked out)."""
        slot = (tenant["org_id"], tenant["version"], key["id"])
        found = self._plans.get(slot)
        if found is not None and at < found.budgets.valid_until:
            self._plans.move_to_end(slot)
            return found
        budgets = budget_plan(tenant, key, datetime.fromtimestamp(at, UTC))
        plan = KeyPlan(budgets, limit_plan(tenant, key))
        self._plans[slot] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan
