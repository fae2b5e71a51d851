"""The budgets page, its forms, and the rate-limit forms of keys and projects."""

from __future__ import annotations

import re

import pytest
import redis
from django.test import Client

from gateway.budgets import actions as budget_actions
from gateway.budgets.models import Budget
from gateway.budgets.specs import BudgetSpec
from tenants import actions
from tenants.models import ApiKey, AuditEvent, Organization, Project
from tests.conftest import Persona, logged_in
from tests.dashboard.support import submit, text
from tests.gateway.budgets.conftest import set_counters

NANO = 10**9


def _budget(persona: Persona, **changes: object) -> Budget:
    spec = BudgetSpec(
        scope=str(changes.get("scope", "project")),
        scope_id=changes.get("scope_id", persona.project.id),  # type: ignore[arg-type]
        limit_nano=int(changes.get("limit_nano", 20 * NANO)),  # type: ignore[call-overload]
        period=str(changes.get("period", "month")),
    )
    return budget_actions.create_budget(persona.org, spec, persona.actor)


def _cells(page_text: str) -> str:
    """The page's text without tags and runs of white space, to read it as a person does."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text))


def test_alice_sees_each_budget_with_its_spend_and_a_bar(
    alice: Persona, redis_client: redis.Redis
) -> None:
    budget = _budget(alice)
    _budget(alice, scope="org", scope_id=alice.org.id, period="request", limit_nano=NANO // 4)
    set_counters(redis_client, budget, spent=5 * NANO, reserved=3 * NANO)
    page = logged_in(alice).get("/o/acme/budgets/")
    assert page.status_code == 200
    shown = _cells(text(page))
    assert "Default Project Per month" in shown
    assert "$20.00 $5.00 $3.00 $12.00" in shown
    assert "40% used" in shown
    assert 'style="width: 25%"' in text(page)  # spent
    assert 'style="width: 15%"' in text(page)  # reserved
    assert "Acme Organization Per request $0.25 A cap on each request" in shown
    assert f"/o/acme/budgets/{budget.id}/delete/" in text(page)


def test_an_exhausted_budget_shows_a_full_bar(alice: Persona, redis_client: redis.Redis) -> None:
    set_counters(redis_client, _budget(alice), spent=25 * NANO, reserved=0)
    shown = text(logged_in(alice).get("/o/acme/budgets/"))
    assert 'class="meter full"' in shown
    assert "100% used" in shown


def test_bob_sees_budgets_but_not_the_admin_buttons(alice: Persona, bob: Persona) -> None:
    budget = _budget(alice)
    page = logged_in(bob).get("/o/acme/budgets/")
    assert page.status_code == 200
    assert "$20.00" in text(page)
    assert f"/o/acme/budgets/{budget.id}/delete/" not in text(page)
    assert "/o/acme/budgets/new/" not in text(page)


@pytest.mark.parametrize("scope", ["org", "team", "project", "user", "key"])
def test_alice_adds_a_budget_on_each_scope(alice: Persona, scope: str) -> None:
    team = actions.create_team(alice.org, "Platform", alice.actor)
    key = actions.issue_api_key(alice.project, "app", alice.actor)
    scope_id = {
        "org": str(alice.org.id),
        "team": str(team.id),
        "project": str(alice.project.id),
        "user": str(alice.user.id),
        "key": key.id,
    }[scope]
    browser = logged_in(alice)
    form = browser.get("/o/acme/budgets/new/")
    assert '<optgroup label="Teams" data-scope="team">' in text(form)
    response = submit(
        browser,
        "/o/acme/budgets/new/",
        {
            "scope": scope,
            "scope_id": scope_id,
            "limit_usd": "7.5",
            "period": "day",
            "on_exhausted": "fallback",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get()
    assert (budget.scope, str(budget.scope_id), budget.limit_nano) == (
        scope,
        scope_id,
        7_500_000_000,
    )
    assert (budget.period, budget.on_exhausted, budget.created_by) == (
        "day",
        "fallback",
        alice.user,
    )


def _new_budget_form(**changes: str) -> dict[str, str]:
    return {
        "scope": "project",
        "scope_id": "",
        "limit_usd": "10",
        "period": "month",
        "on_exhausted": "block",
        **changes,
    }


def test_an_object_of_another_kind_is_refused_on_the_form(alice: Persona) -> None:
    response = submit(
        logged_in(alice),
        "/o/acme/budgets/new/",
        _new_budget_form(scope="team", scope_id=str(alice.project.id)),
    )
    assert response.status_code == 400
    assert "Pick one of the teams for a team budget." in text(response)
    assert not Budget.objects.exists()


@pytest.mark.parametrize("limit", ["-1", "0", "1.0000001", "2000000", "ten"])
def test_a_bad_limit_is_refused_on_the_form(alice: Persona, limit: str) -> None:
    response = submit(
        logged_in(alice),
        "/o/acme/budgets/new/",
        _new_budget_form(scope_id=str(alice.project.id), limit_usd=limit),
    )
    assert response.status_code == 400
    assert 'class="field-error"' in text(response)
    assert not Budget.objects.exists()


def test_a_duplicate_budget_is_refused_on_the_form(alice: Persona) -> None:
    _budget(alice)
    response = submit(
        logged_in(alice), "/o/acme/budgets/new/", _new_budget_form(scope_id=str(alice.project.id))
    )
    assert response.status_code == 400
    assert "already has a budget" in text(response)
    assert Budget.objects.count() == 1


def test_alice_deletes_a_budget_after_confirming(alice: Persona) -> None:
    budget = _budget(alice)
    browser = logged_in(alice)
    url = f"/o/acme/budgets/{budget.id}/delete/"
    confirm = browser.get(url)
    assert "Delete the <strong>per month</strong> budget of <strong>$20.00</strong>" in text(
        confirm
    )
    assert "Default" in text(confirm)
    assert Budget.objects.exists()
    response = submit(browser, url, {})
    assert response.status_code == 302
    assert not Budget.objects.exists()
    assert AuditEvent.objects.get(action="budget.deleted").target_label == (
        "monthly budget of 20.000000 USD on project Default"
    )


def test_alice_changes_the_budget_settings(alice: Persona) -> None:
    browser = logged_in(alice)
    response = submit(
        browser,
        "/o/acme/budgets/settings/",
        {
            "timezone": "Europe/Berlin",
            "price_input": "0.15",
            "price_output": "0.60",
            "default_max_output_tokens": "4096",
        },
    )
    assert response.status_code == 302
    org = Organization.objects.get(id=alice.org.id)
    assert org.timezone == "Europe/Berlin"
    assert (str(org.default_price_input_per_mtok), org.default_max_output_tokens) == (
        "0.150000",
        4096,
    )
    shown = _cells(text(browser.get("/o/acme/budgets/")))
    assert "Europe/Berlin" in shown
    assert "$0.15 / $0.60" in shown
    # Empty fields clear them again.
    submit(browser, "/o/acme/budgets/settings/", {"timezone": "UTC"})
    org.refresh_from_db()
    assert (org.default_price_input_per_mtok, org.default_max_output_tokens) == (None, None)


@pytest.mark.parametrize(
    "data",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "UTC", "price_input": "1"},
        {"timezone": "UTC", "price_input": "-1", "price_output": "1"},
        {"timezone": "UTC", "default_max_output_tokens": "0"},
    ],
)
def test_bad_settings_are_refused_on_the_form(alice: Persona, data: dict[str, str]) -> None:
    response = submit(logged_in(alice), "/o/acme/budgets/settings/", data)
    assert response.status_code == 400
    org = Organization.objects.get(id=alice.org.id)
    assert (org.timezone, org.default_price_input_per_mtok) == ("UTC", None)


def test_alice_sets_a_projects_rate_limits(alice: Persona) -> None:
    browser = logged_in(alice)
    url = f"/o/acme/projects/{alice.project.id}/limits/"
    response = submit(browser, url, {"rpm_limit": "600", "tpm_limit": ""})
    assert response.status_code == 302
    project = Project.objects.get(id=alice.project.id)
    assert (project.rpm_limit, project.tpm_limit) == (600, None)
    shown = _cells(text(browser.get(f"/o/acme/projects/{alice.project.id}/")))
    assert "Requests per minute 600" in shown
    assert "Tokens per minute No limit" in shown


def test_alice_sets_a_keys_rate_limits(alice: Persona) -> None:
    issued = actions.issue_api_key(alice.project, "app", alice.actor)
    browser = logged_in(alice)
    response = submit(browser, f"/o/acme/keys/{issued.id}/limits/", {"tpm_limit": "250000"})
    assert response.status_code == 302
    key = ApiKey.objects.get(id=issued.id)
    assert (key.rpm_limit, key.tpm_limit) == (None, 250_000)
    assert "250,000 tpm" in text(browser.get("/o/acme/keys/"))


@pytest.mark.parametrize("value", ["0", "-3", "1000001", "1.5", "many"])
def test_a_bad_rate_limit_is_refused_on_the_form(alice: Persona, value: str) -> None:
    url = f"/o/acme/projects/{alice.project.id}/limits/"
    response = submit(logged_in(alice), url, {"rpm_limit": value})
    assert response.status_code == 400
    assert Project.objects.get(id=alice.project.id).rpm_limit is None


def test_a_revoked_keys_limits_cannot_be_set(alice: Persona) -> None:
    issued = actions.issue_api_key(alice.project, "app", alice.actor)
    browser = logged_in(alice)
    page = browser.get(f"/o/acme/keys/{issued.id}/limits/")
    actions.revoke_api_key(ApiKey.objects.get(id=issued.id), alice.actor)
    response = browser.post(f"/o/acme/keys/{issued.id}/limits/", {"rpm_limit": "5"})
    assert page.status_code == 200
    assert response.status_code == 400
    assert "revoked" in text(response)
    assert ApiKey.objects.get(id=issued.id).rpm_limit is None


def test_an_admin_creates_a_key_with_limits(alice: Persona) -> None:
    response = submit(
        logged_in(alice),
        "/o/acme/keys/new/",
        {"project": str(alice.project.id), "name": "slow", "rpm_limit": "10"},
    )
    assert response.status_code == 200
    assert "sk-sel-" in text(response)
    assert ApiKey.objects.get(name="slow").rpm_limit == 10


def test_a_member_creates_a_key_without_limit_fields(alice: Persona, bob: Persona) -> None:
    browser: Client = logged_in(bob)
    assert 'name="rpm_limit"' not in text(browser.get("/o/acme/keys/new/"))
    submit(
        browser,
        "/o/acme/keys/new/",
        {"project": str(alice.project.id), "name": "mine", "rpm_limit": "1"},
    )
    assert ApiKey.objects.get(name="mine").rpm_limit is None
