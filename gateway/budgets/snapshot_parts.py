"""The budgets' share of a tenant snapshot (registered in apps.py)."""

from __future__ import annotations

from gateway.budgets.models import Budget
from gateway.shared.snapshot import Snapshot
from tenants.models import Organization


def add_budgets(snapshot: Snapshot, org: Organization) -> None:
    rows = Budget.objects.filter(org=org).order_by("created_at", "id")
    snapshot["budgets"] = [
        {
            "id": str(budget.id),
            "scope": budget.scope,
            "scope_id": str(budget.scope_id),
            "limit_nano": budget.limit_nano,
            "period": budget.period,
            "on_exhausted": budget.on_exhausted,
        }
        for budget in rows
    ]
