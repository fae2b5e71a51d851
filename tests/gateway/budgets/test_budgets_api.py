"""The budgets API: add, list with live counters, delete; bad input and other orgs get nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone
from rest_framework.test import APIClient

from config.redis import get_redis
from gateway.budgets.models import Budget
from gateway.shared.budget_windows import window_for
from tenants import actions
from tenants.models import ApiKey, AuditEvent, Organization, Team
from tests.conftest import Persona, logged_in
from tests.gateway.budgets.conftest import a_budget, error_of, post_budget, set_counters

NANO = 10**9


def test_an_admin_adds_a_budget_and_sees_it_with_its_window(
    alice: Persona, alice_api: APIClient
) -> None:
    created = post_budget(alice_api, a_budget(alice))
    assert created.status_code == 201, created.content
    body = created.json()
    window = window_for("month", timezone.now(), "UTC")
    assert body == {
        "id": body["id"],
        "scope": "project",
        "scope_id": str(alice.project.id),
        "scope_name": "Default",
        "limit_usd": "50.000000",
        "period": "month",
        "on_exhausted": "block",
        "window": {
            "id": window.id,
            "starts_at": window.starts_at.isoformat().replace("+00:00", "Z")
            if window.starts_at
            else None,
            "ends_at": window.ends_at.isoformat().replace("+00:00", "Z")
            if window.ends_at
            else None,
        },
        "spent_usd": "0.000000",
        "reserved_usd": "0.000000",
        "remaining_usd": "50.000000",
        "created_at": body["created_at"],
    }
    budget = Budget.objects.get(id=body["id"])
    assert budget.limit_nano == 50 * NANO
    assert alice_api.get("/api/v1/budgets/").json() == [body]
    assert alice_api.get(f"/api/v1/budgets/{body['id']}/").json() == body
    event = AuditEvent.objects.get(org=alice.org, action="budget.created")
    assert event.target_label == "monthly budget of 50.000000 USD on project Default"


def _scope_ids(persona: Persona) -> dict[str, str]:
    """One object of each scope in the persona's org."""
    team = actions.create_team(persona.org, "Platform", persona.actor)
    key = actions.issue_api_key(persona.project, "app", persona.actor)
    return {
        "org": str(persona.org.id),
        "team": str(team.id),
        "project": str(persona.project.id),
        "user": str(persona.user.id),
        "key": key.id,
    }


@pytest.mark.parametrize("scope", ["org", "team", "project", "user", "key"])
def test_a_budget_can_be_set_on_each_scope(
    alice: Persona, alice_api: APIClient, scope: str
) -> None:
    scope_id = _scope_ids(alice)[scope]
    response = post_budget(alice_api, a_budget(alice, scope=scope, scope_id=scope_id))
    assert response.status_code == 201, response.content
    assert (response.json()["scope"], response.json()["scope_id"]) == (scope, scope_id)


def test_the_scope_names_are_the_objects_names(alice: Persona, alice_api: APIClient) -> None:
    ids = _scope_ids(alice)
    for scope, scope_id in ids.items():
        post_budget(alice_api, a_budget(alice, scope=scope, scope_id=scope_id))
    names = {b["scope"]: b["scope_name"] for b in alice_api.get("/api/v1/budgets/").json()}
    key = ApiKey.objects.get(id=ids["key"])
    assert names == {
        "org": "Acme",
        "team": "Platform",
        "project": "Default",
        "user": "alice@acme.test",
        "key": f"{key.prefix}… (app)",
    }


def test_an_org_budget_needs_no_scope_id(alice: Persona, alice_api: APIClient) -> None:
    body = a_budget(alice, scope="org")
    del body["scope_id"]
    response = post_budget(alice_api, body)
    assert response.status_code == 201, response.content
    assert response.json()["scope_id"] == str(alice.org.id)


def test_on_exhausted_defaults_to_block(alice: Persona, alice_api: APIClient) -> None:
    body = a_budget(alice, on_exhausted="fallback", period="day")
    assert post_budget(alice_api, body).json()["on_exhausted"] == "fallback"
    body = a_budget(alice)
    del body["on_exhausted"]
    assert post_budget(alice_api, body).json()["on_exhausted"] == "block"


@pytest.mark.parametrize("scope", ["org", "team", "project", "user", "key"])
def test_a_budget_on_another_orgs_object_answers_404_and_writes_nothing(
    alice: Persona, alice_api: APIClient, charlie: Persona, scope: str
) -> None:
    theirs = _scope_ids(charlie)[scope]
    response = post_budget(alice_api, a_budget(alice, scope=scope, scope_id=theirs))
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"
    assert not Budget.objects.exists()
    assert not AuditEvent.objects.filter(action="budget.created").exists()


@pytest.mark.parametrize("scope", ["team", "project", "user", "key"])
def test_a_budget_on_an_object_that_does_not_exist_answers_404(
    alice: Persona, alice_api: APIClient, scope: str
) -> None:
    missing = "00000000-0000-4000-8000-000000000001"
    assert post_budget(alice_api, a_budget(alice, scope=scope, scope_id=missing)).status_code == 404
    assert not Budget.objects.exists()


def test_a_person_who_left_the_org_cannot_get_a_new_budget(
    alice: Persona, bob: Persona, alice_api: APIClient
) -> None:
    bob.user.memberships.all().delete()
    response = post_budget(alice_api, a_budget(alice, scope="user", scope_id=str(bob.user.id)))
    assert response.status_code == 404
    assert not Budget.objects.exists()


def test_a_revoked_key_cannot_get_a_budget(alice: Persona, alice_api: APIClient) -> None:
    issued = actions.issue_api_key(alice.project, "old", alice.actor)
    actions.revoke_api_key(ApiKey.objects.get(id=issued.id), alice.actor)
    response = post_budget(alice_api, a_budget(alice, scope="key", scope_id=issued.id))
    assert response.status_code == 400
    assert error_of(response)["param"] == "scope_id"
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    "limit",
    [
        "-1",
        "-0.01",
        "0",
        "0.000000",
        "1000000.000001",
        "1000001",
        "99999999999",
        "1.0000001",
        "0.0000001",
        "1e3",
        " 5",
        "5 ",
        "5.",
        ".5",
        "1,5",
        "NaN",
        "Infinity",
        "",
        "fifty",
        50,
        50.5,
        0.1,
        True,
        None,
        ["50"],
        {"usd": "50"},
    ],
)
def test_a_bad_limit_is_refused_naming_the_field_and_nothing_is_written(
    alice: Persona, alice_api: APIClient, limit: Any
) -> None:
    response = post_budget(alice_api, a_budget(alice, limit_usd=limit))
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["param"] == "limit_usd"
    assert error["type"] == "invalid_request_error"
    assert not Budget.objects.exists()


def test_a_number_instead_of_a_string_is_refused_with_a_reason(
    alice: Persona, alice_api: APIClient
) -> None:
    response = post_budget(alice_api, a_budget(alice, limit_usd=50))
    assert "decimal string" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("limit", "nano"),
    [("0.000001", 1_000), ("1000000", 10**15), ("12.5", 12_500_000_000), ("007", 7 * NANO)],
)
def test_limits_are_kept_exactly(
    alice: Persona, alice_api: APIClient, limit: str, nano: int
) -> None:
    response = post_budget(alice_api, a_budget(alice, limit_usd=limit))
    assert response.status_code == 201, response.content
    assert Budget.objects.get().limit_nano == nano


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scope", "galaxy"),
        ("scope", "ORG"),
        ("scope", None),
        ("period", "week"),
        ("period", "hour"),
        ("period", None),
        ("on_exhausted", "explode"),
        ("scope_id", "not-a-uuid"),
        ("scope_id", ["00000000-0000-4000-8000-000000000001"]),
    ],
)
def test_bad_fields_are_refused_by_name(
    alice: Persona, alice_api: APIClient, field: str, value: Any
) -> None:
    response = post_budget(alice_api, a_budget(alice, **{field: value}))
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == field
    assert not Budget.objects.exists()


@pytest.mark.parametrize("missing", ["scope", "limit_usd", "period"])
def test_required_fields_are_required(alice: Persona, alice_api: APIClient, missing: str) -> None:
    body = a_budget(alice)
    del body[missing]
    response = post_budget(alice_api, body)
    assert response.status_code == 400
    assert error_of(response)["param"] == missing
    assert not Budget.objects.exists()


def test_a_team_budget_without_a_team_is_refused(alice: Persona, alice_api: APIClient) -> None:
    response = post_budget(alice_api, a_budget(alice, scope="team", scope_id=None))
    assert response.status_code == 400
    assert error_of(response)["param"] == "scope_id"
    assert not Budget.objects.exists()


def test_an_unknown_field_is_refused(alice: Persona, alice_api: APIClient) -> None:
    response = post_budget(alice_api, a_budget(alice, limit="50.00"))
    assert response.status_code == 400
    assert error_of(response)["param"] == "limit"
    assert error_of(response)["code"] == "unknown_field"
    assert not Budget.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/budgets/", ["project"], format="json")
    assert response.status_code == 400
    assert not Budget.objects.exists()


def test_a_second_budget_for_the_same_scope_and_period_is_a_conflict(
    alice: Persona, alice_api: APIClient
) -> None:
    first = post_budget(alice_api, a_budget(alice))
    again = post_budget(alice_api, a_budget(alice, limit_usd="80"))
    assert again.status_code == 409
    error = error_of(again)
    assert error["type"] == "conflict_error"
    assert error["code"] == "conflict"
    assert first.json()["id"] in error["message"]
    assert Budget.objects.get().limit_nano == 50 * NANO
    # Another period of the same project is another budget.
    assert post_budget(alice_api, a_budget(alice, period="day")).status_code == 201
    assert Budget.objects.count() == 2


def test_a_deleted_budget_is_gone(alice: Persona, alice_api: APIClient) -> None:
    budget_id = post_budget(alice_api, a_budget(alice)).json()["id"]
    assert alice_api.delete(f"/api/v1/budgets/{budget_id}/").status_code == 204
    assert alice_api.get(f"/api/v1/budgets/{budget_id}/").status_code == 404
    assert alice_api.get("/api/v1/budgets/").json() == []
    assert AuditEvent.objects.filter(org=alice.org, action="budget.deleted").exists()
    # The limit can be set again.
    assert post_budget(alice_api, a_budget(alice)).status_code == 201


def test_charlie_gets_404_for_alices_budgets(
    alice: Persona, alice_api: APIClient, charlie_api: APIClient
) -> None:
    budget_id = post_budget(alice_api, a_budget(alice)).json()["id"]
    assert charlie_api.get(f"/api/v1/budgets/{budget_id}/").status_code == 404
    assert charlie_api.delete(f"/api/v1/budgets/{budget_id}/").status_code == 404
    assert charlie_api.get("/api/v1/budgets/").json() == []
    assert Budget.objects.filter(id=budget_id).exists()


def test_a_malformed_budget_id_is_a_404(alice_api: APIClient) -> None:
    assert alice_api.get("/api/v1/budgets/not-a-uuid/").status_code == 404


def test_a_member_reads_budgets_but_cannot_change_them(
    alice: Persona, bob: Persona, alice_api: APIClient
) -> None:
    budget_id = post_budget(alice_api, a_budget(alice)).json()["id"]
    browser = logged_in(bob)
    assert browser.get("/api/v1/budgets/").status_code == 200
    refused = browser.post(
        "/api/v1/budgets/", a_budget(alice, period="day"), content_type="application/json"
    )
    assert refused.status_code == 403
    assert browser.delete(f"/api/v1/budgets/{budget_id}/").status_code == 403
    assert Budget.objects.count() == 1


def test_an_anonymous_caller_is_refused(alice: Persona) -> None:
    assert APIClient().get("/api/v1/budgets/").status_code == 401


# Live counters: the proxy keeps them in Redis; the API reads the current window.


def test_the_list_shows_what_is_spent_and_reserved_in_the_current_window(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    post_budget(alice_api, a_budget(alice, limit_usd="10"))
    post_budget(alice_api, a_budget(alice, scope="org", scope_id=str(alice.org.id), period="day"))
    monthly, daily = Budget.objects.order_by("created_at")
    set_counters(redis_client, monthly, spent=2_500_000_000, reserved=1_000_000_001)
    set_counters(redis_client, daily, spent=7, reserved=0)
    listed = {b["id"]: b for b in alice_api.get("/api/v1/budgets/").json()}
    shown = listed[str(monthly.id)]
    assert (shown["spent_usd"], shown["reserved_usd"], shown["remaining_usd"]) == (
        "2.500000",
        "1.000001",  # 1.000000001 USD, rounded up for display
        "6.499999",
    )
    # 7 nano-USD spent shows as the smallest amount above zero, never as nothing.
    assert listed[str(daily.id)]["spent_usd"] == "0.000001"
    assert listed[str(daily.id)]["window"]["id"] == window_for("day", timezone.now()).id


def test_remaining_is_never_below_zero(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    post_budget(alice_api, a_budget(alice, limit_usd="1"))
    set_counters(redis_client, Budget.objects.get(), spent=800_000_000, reserved=300_000_000)
    shown = alice_api.get("/api/v1/budgets/").json()[0]
    assert shown["remaining_usd"] == "0.000000"
    assert shown["reserved_usd"] == "0.300000"


def test_the_previous_windows_spend_does_not_count(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    post_budget(alice_api, a_budget(alice, period="day"))
    budget = Budget.objects.get()
    set_counters(redis_client, budget, 9 * NANO, 0, at=timezone.now() - timedelta(days=1))
    shown = alice_api.get(f"/api/v1/budgets/{budget.id}/").json()
    assert (shown["spent_usd"], shown["remaining_usd"]) == ("0.000000", "50.000000")


def test_a_total_budget_has_one_window_forever(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    post_budget(alice_api, a_budget(alice, period="total", limit_usd="100"))
    budget = Budget.objects.get()
    assert set_counters(redis_client, budget, spent=40 * NANO, reserved=0) == "total"
    shown = alice_api.get(f"/api/v1/budgets/{budget.id}/").json()
    assert shown["window"] == {"id": "total", "starts_at": None, "ends_at": None}
    assert shown["remaining_usd"] == "60.000000"


def test_a_per_request_budget_has_no_window_and_no_counters(
    alice: Persona, alice_api: APIClient
) -> None:
    shown = post_budget(alice_api, a_budget(alice, period="request", limit_usd="0.25")).json()
    assert shown["window"] is None
    assert (shown["spent_usd"], shown["reserved_usd"], shown["remaining_usd"]) == (None,) * 3
    assert shown["limit_usd"] == "0.250000"


def test_windows_follow_the_orgs_time_zone(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    # UTC+14: its day is rarely the same as UTC's.
    zone = "Pacific/Kiritimati"
    patched = alice_api.patch("/api/v1/budget-settings/", {"timezone": zone}, format="json")
    assert patched.status_code == 200
    post_budget(alice_api, a_budget(alice, period="day"))
    budget = Budget.objects.get()
    before = set_counters(redis_client, budget, spent=3 * NANO, reserved=0)
    shown = alice_api.get(f"/api/v1/budgets/{budget.id}/").json()
    after = set_counters(redis_client, budget, spent=3 * NANO, reserved=0)  # past midnight?
    assert shown["window"]["id"] in {before, after}
    # Midnight in Kiritimati is 10:00 UTC.
    assert shown["window"]["starts_at"].endswith("T10:00:00Z")
    assert shown["spent_usd"] == "3.000000"


def test_budgets_still_list_when_redis_cannot_be_read(
    alice: Persona, alice_api: APIClient, settings: Any
) -> None:
    post_budget(alice_api, a_budget(alice))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    get_redis.cache_clear()
    try:
        response = alice_api.get("/api/v1/budgets/")
    finally:
        get_redis.cache_clear()
    assert response.status_code == 200
    shown = response.json()[0]
    assert shown["limit_usd"] == "50.000000"
    assert (shown["spent_usd"], shown["reserved_usd"], shown["remaining_usd"]) == (None,) * 3


def test_a_budget_of_a_deleted_team_still_lists(alice: Persona, alice_api: APIClient) -> None:
    team_id = _scope_ids(alice)["team"]
    post_budget(alice_api, a_budget(alice, scope="team", scope_id=team_id))
    Team.objects.filter(id=team_id).delete()
    assert alice_api.get("/api/v1/budgets/").json()[0]["scope_name"] == "deleted team"


def test_another_orgs_budgets_are_not_listed(
    alice: Persona, alice_api: APIClient, charlie: Persona, charlie_api: APIClient
) -> None:
    post_budget(alice_api, a_budget(alice))
    post_budget(charlie_api, a_budget(charlie))
    listed = alice_api.get("/api/v1/budgets/").json()
    assert [b["scope_id"] for b in listed] == [str(alice.project.id)]
    assert Organization.objects.count() == 2
