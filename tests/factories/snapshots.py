"""Tenant snapshots as the proxy reads them from Redis, built directly for stage tests."""

from __future__ import annotations

from typing import Any

from gateway.shared.snapshot import BudgetEntry, KeyEntry, Snapshot

ORG = "org-1"


def key_entry(rpm: int | None = None) -> KeyEntry:
    """Key "key-1" of project-1, team-1 and user-1, with an optional requests-per-minute limit."""
    return {
        "id": "key-1",
        "hash": "h",
        "project_id": "project-1",
        "team_id": "team-1",
        "user_id": "user-1",
        "rpm_limit": rpm,
        "tpm_limit": None,
    }


def budget(
    budget_id: str, limit_nano: int, scope: str = "org", on_exhausted: str = "block"
) -> BudgetEntry:
    """A monthly budget of `limit_nano` on the org, or on key-1's team, project or key."""
    scope_ids = {"org": ORG, "team": "team-1", "project": "project-1", "key": "key-1"}
    return {
        "id": budget_id,
        "scope": scope,
        "scope_id": scope_ids[scope],
        "limit_nano": limit_nano,
        "period": "month",
        "on_exhausted": on_exhausted,
    }


def tenant(*budgets: BudgetEntry, key: KeyEntry | None = None) -> Snapshot:
    """ORG's snapshot with one key ("sk-sel-x") and `budgets`, in UTC, no default price."""
    snapshot: dict[str, Any] = {
        "org_id": ORG,
        "version": 1,
        "keys": {"sk-sel-x": key or key_entry()},
        "routes": {},
        "provider_keys": {},
        "projects": {},
        "budgets": list(budgets),
        "budget_defaults": {
            "timezone": "UTC",
            "default_price": None,
            "default_max_output_tokens": None,
        },
    }
    return snapshot  # type: ignore[return-value]
