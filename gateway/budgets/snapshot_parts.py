"""The budgets' share of a tenant snapshot: budgets, their defaults, and projects' rate limits."""

from __future__ import annotations

from gateway.budgets.models import Budget
from gateway.pii_policy.snapshot_parts import build_project_policies
from gateway.shared.snapshot import BudgetDefaults, BudgetEntry, PriceEntry, ProjectEntry
from tenants.models import Organization, Project


def build_budgets(org: Organization) -> list[BudgetEntry]:
    rows = Budget.objects.filter(org=org).order_by("created_at", "id")
    return [
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


def _default_price(org: Organization) -> PriceEntry | None:
    given, taken = org.default_price_input_per_mtok, org.default_price_output_per_mtok
    if given is None or taken is None:
        return None
    # Decimal strings with the column's six places, e.g. "2.500000"; never a float.
    return {"input_per_mtok": str(given), "output_per_mtok": str(taken)}


def build_budget_defaults(org: Organization) -> BudgetDefaults:
    return {
        "timezone": org.timezone,
        "default_price": _default_price(org),
        "default_max_output_tokens": org.default_max_output_tokens,
    }


def build_projects(org: Organization) -> dict[str, ProjectEntry]:
    """Every project, limited or not, so the proxy can tell "no limit" from "unknown project"."""
    rows = Project.objects.filter(org=org).values_list("id", "rpm_limit", "tpm_limit")
    projects: dict[str, ProjectEntry] = {
        str(project_id): {"rpm_limit": rpm, "tpm_limit": tpm} for project_id, rpm, tpm in rows
    }
    # A project's own PII policy, only where there is one (absent = the org's).
    for project_id, policy in build_project_policies(org).items():
        if project_id in projects:
            projects[project_id]["pii"] = policy
    return projects
