"""What the proxy reads after a change: budgets, their defaults and rate limits in the snapshot."""

from __future__ import annotations

import pytest
import redis
from django.db import transaction
from rest_framework.test import APIClient

from gateway.budgets import actions as budget_actions
from gateway.budgets.models import Budget
from gateway.budgets.specs import BudgetSpec
from tenants import actions
from tenants.models import ApiKey, AuditEvent
from tests.conftest import Persona, create_key
from tests.gateway.budgets.conftest import a_budget, post_budget, stored_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_orgs_snapshot_has_its_project_and_no_budgets(
    alice: Persona, redis_client: redis.Redis
) -> None:
    snapshot = stored_snapshot(redis_client, alice.org)
    assert snapshot["projects"] == {str(alice.project.id): {"rpm_limit": None, "tpm_limit": None}}
    assert snapshot["budgets"] == []
    assert snapshot["budget_defaults"] == {
        "timezone": "UTC",
        "default_price": None,
        "default_max_output_tokens": None,
    }


def test_an_added_budget_is_in_the_snapshot_after_commit(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    before = stored_snapshot(redis_client, alice.org)["version"]
    budget_id = post_budget(
        alice_api, a_budget(alice, limit_usd="12.345678", on_exhausted="fallback")
    ).json()["id"]
    snapshot = stored_snapshot(redis_client, alice.org)
    assert snapshot["version"] == before + 1
    assert snapshot["budgets"] == [
        {
            "id": budget_id,
            "scope": "project",
            "scope_id": str(alice.project.id),
            "limit_nano": 12_345_678_000,
            "period": "month",
            "on_exhausted": "fallback",
        }
    ]


def test_a_deleted_budget_leaves_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    budget_id = post_budget(alice_api, a_budget(alice)).json()["id"]
    post_budget(alice_api, a_budget(alice, scope="org", scope_id=str(alice.org.id)))
    alice_api.delete(f"/api/v1/budgets/{budget_id}/")
    budgets = stored_snapshot(redis_client, alice.org)["budgets"]
    assert [b["scope"] for b in budgets] == ["org"]


def test_a_refused_budget_publishes_nothing(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    post_budget(alice_api, a_budget(alice))
    before = stored_snapshot(redis_client, alice.org)
    assert post_budget(alice_api, a_budget(alice)).status_code == 409
    assert post_budget(alice_api, a_budget(alice, limit_usd="-1")).status_code == 400
    assert stored_snapshot(redis_client, alice.org) == before


def test_nothing_is_published_when_the_transaction_rolls_back(
    alice: Persona, redis_client: redis.Redis
) -> None:
    before = stored_snapshot(redis_client, alice.org)
    spec = BudgetSpec(scope="org", scope_id=None, limit_nano=10**9, period="day")
    with pytest.raises(RuntimeError), transaction.atomic():
        budget_actions.create_budget(alice.org, spec, alice.actor)
        raise RuntimeError("abort")
    assert stored_snapshot(redis_client, alice.org) == before
    assert not Budget.objects.exists()


def test_revoking_a_key_deletes_its_budgets_and_they_leave_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key_id = create_key(alice_api, alice)["id"]
    post_budget(alice_api, a_budget(alice, scope="key", scope_id=key_id))
    post_budget(alice_api, a_budget(alice, scope="key", scope_id=key_id, period="request"))
    post_budget(alice_api, a_budget(alice))
    assert len(stored_snapshot(redis_client, alice.org)["budgets"]) == 3
    alice_api.delete(f"/api/v1/keys/{key_id}/")
    budgets = stored_snapshot(redis_client, alice.org)["budgets"]
    assert [b["scope"] for b in budgets] == ["project"]
    assert list(Budget.objects.values_list("scope", flat=True)) == ["project"]
    assert AuditEvent.objects.filter(org=alice.org, action="budget.deleted").count() == 2


def test_budget_settings_are_in_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    alice_api.patch(
        "/api/v1/budget-settings/",
        {
            "timezone": "Europe/Berlin",
            "default_price": {"input_per_mtok": "0.15", "output_per_mtok": "0.6"},
            "default_max_output_tokens": 8192,
        },
        format="json",
    )
    assert stored_snapshot(redis_client, alice.org)["budget_defaults"] == {
        "timezone": "Europe/Berlin",
        "default_price": {"input_per_mtok": "0.150000", "output_per_mtok": "0.600000"},
        "default_max_output_tokens": 8192,
    }
    alice_api.patch("/api/v1/budget-settings/", {"default_price": None}, format="json")
    defaults = stored_snapshot(redis_client, alice.org)["budget_defaults"]
    assert defaults["default_price"] is None
    assert defaults["timezone"] == "Europe/Berlin"


def test_rate_limits_of_keys_and_projects_are_in_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key = create_key(alice_api, alice)
    alice_api.patch(f"/api/v1/keys/{key['id']}/", {"rpm_limit": 30}, format="json")
    alice_api.patch(f"/api/v1/projects/{alice.project.id}/", {"tpm_limit": 90_000}, format="json")
    snapshot = stored_snapshot(redis_client, alice.org)
    entry = snapshot["keys"][key["prefix"]]
    assert (entry["rpm_limit"], entry["tpm_limit"]) == (30, None)
    assert snapshot["projects"][str(alice.project.id)] == {"rpm_limit": None, "tpm_limit": 90_000}


def test_a_new_project_is_in_the_snapshot(alice: Persona, redis_client: redis.Redis) -> None:
    project = actions.create_project(alice.org, "Batch", alice.actor)
    assert str(project.id) in stored_snapshot(redis_client, alice.org)["projects"]


def test_a_limit_change_that_changes_nothing_publishes_nothing(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key = create_key(alice_api, alice)
    before = stored_snapshot(redis_client, alice.org)["version"]
    alice_api.patch(f"/api/v1/keys/{key['id']}/", {"rpm_limit": None}, format="json")
    alice_api.patch("/api/v1/budget-settings/", {"timezone": "UTC"}, format="json")
    assert stored_snapshot(redis_client, alice.org)["version"] == before
    assert ApiKey.objects.get(id=key["id"]).rpm_limit is None


def test_another_orgs_snapshot_does_not_change(
    alice: Persona, alice_api: APIClient, charlie: Persona, redis_client: redis.Redis
) -> None:
    before = stored_snapshot(redis_client, charlie.org)
    post_budget(alice_api, a_budget(alice))
    alice_api.patch("/api/v1/budget-settings/", {"timezone": "Asia/Tokyo"}, format="json")
    alice_api.patch(f"/api/v1/projects/{alice.project.id}/", {"rpm_limit": 5}, format="json")
    assert stored_snapshot(redis_client, charlie.org) == before
