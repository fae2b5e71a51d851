"""Tenant snapshots as the proxy reads them from Redis, built directly for stage tests."""

from __future__ import annotations

import time
from typing import Any

from gateway.shared.crypto import MasterKeys, data_key_context
from gateway.shared.snapshot import BudgetEntry, KeyEntry, ObservabilityEntry, Snapshot
from gateway.shared.traces import new_data_key

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


def utc_day(ts: float | None = None) -> str:
    """The UTC day "YYYY-MM-DD" of unix time `ts` (now when None), as the proxy names it."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if ts is None else ts))


def observability(
    master: MasterKeys,
    enabled: bool = True,
    projects: dict[str, bool] | None = None,
    days: tuple[str, ...] | None = None,
    org_id: str = ORG,
) -> tuple[ObservabilityEntry, dict[str, bytes]]:
    """An observability part with a fresh data key per day (default today), sealed as web does.

    Returns the part and the opened keys by day, which a test opens traces with.
    """
    keys = {day: new_data_key() for day in (days if days is not None else (utc_day(),))}
    entry: ObservabilityEntry = {
        "enabled": enabled,
        "projects": dict(projects or {}),
        "data_keys": {
            day: master.seal(key, data_key_context(org_id, day)) for day, key in keys.items()
        },
    }
    return entry, keys
