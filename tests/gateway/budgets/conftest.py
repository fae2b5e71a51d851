"""Helpers for the budget tests: request bodies, the published snapshot, the live counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import redis
from django.utils import timezone
from rest_framework.test import APIClient

from gateway.budgets.models import Budget
from gateway.shared.budget_windows import counter_key, window_for
from gateway.shared.snapshot import snapshot_key
from tenants.models import Organization
from tests.conftest import Persona


def a_budget(persona: Persona, **overrides: Any) -> dict[str, Any]:
    """A monthly budget of 50 USD on the persona's project, as the API takes it."""
    return {
        "scope": "project",
        "scope_id": str(persona.project.id),
        "limit_usd": "50.00",
        "period": "month",
        "on_exhausted": "block",
        **overrides,
    }


def post_budget(api: APIClient, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/budgets/", body, format="json")


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def stored_snapshot(client: redis.Redis, org: Organization) -> dict[str, Any]:
    raw = client.hget(snapshot_key(str(org.id)), "body")
    assert raw is not None
    snapshot: dict[str, Any] = orjson.loads(raw)
    return snapshot


def set_counters(
    client: redis.Redis,
    budget: Budget,
    spent: int,
    reserved: int,
    at: datetime | None = None,
) -> str:
    """Write the counter hash of the budget's window at `at` (now) as the proxy's Lua would.

    Return the window's id.
    """
    org = Organization.objects.get(id=budget.org_id)
    window = window_for(budget.period, at or timezone.now(), org.timezone)
    client.hset(
        counter_key(str(org.id), str(budget.id), window.id),
        mapping={"spent": spent, "reserved": reserved},
    )
    return window.id
