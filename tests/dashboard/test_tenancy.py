"""Who reaches which page: another org's admin gets 404, a member 403 on admin-only actions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from gateway import actions as gateway_actions
from gateway.budgets import actions as budget_actions
from gateway.budgets.models import Budget
from gateway.budgets.specs import BudgetSpec
from gateway.models import Deployment, ProviderKey, Route
from gateway.specs import DeploymentSpec, RouteSpec
from tenants.models import (
    ApiKey,
    Invitation,
    ManagementToken,
    Membership,
    Organization,
    Project,
    Role,
    Team,
)
from tests.conftest import Persona, logged_in
from tests.dashboard.conftest import AcmeObjects
from tests.dashboard.support import text


@dataclass
class AcmeWithGateway(AcmeObjects):
    route_id: str
    provider_key_id: str
    budget_id: str


@pytest.fixture
def acme(acme: AcmeObjects, alice: Persona) -> AcmeWithGateway:
    """Acme's objects, plus a route, a budget and an unused provider key (revocable)."""
    spec = RouteSpec(strategy="priority", deployments=[DeploymentSpec("openai", "gpt-4o")])
    route, _ = gateway_actions.replace_route(alice.org, "gpt-4o", spec, alice.actor)
    key = gateway_actions.add_provider_key(
        alice.org, "openai", "sk-acme-0123456789", alice.actor, name="acme"
    )
    budget = budget_actions.create_budget(
        alice.org,
        BudgetSpec(scope="org", scope_id=None, limit_nano=10**9, period="month"),
        alice.actor,
    )
    return AcmeWithGateway(
        **vars(acme), route_id=str(route.id), provider_key_id=str(key.id), budget_id=str(budget.id)
    )


# (method, path) for every org-scoped page and endpoint; {ids} are Acme's objects.
PAGES = [
    ("get", "/o/{slug}/"),
    ("get", "/o/{slug}/members/"),
    ("get", "/o/{slug}/members/invite/"),
    ("get", "/o/{slug}/members/{bob_membership_id}/remove/"),
    ("get", "/o/{slug}/teams/"),
    ("get", "/o/{slug}/teams/new/"),
    ("get", "/o/{slug}/projects/"),
    ("get", "/o/{slug}/projects/new/"),
    ("get", "/o/{slug}/projects/{project_id}/"),
    ("get", "/o/{slug}/keys/"),
    ("get", "/o/{slug}/keys/new/"),
    ("get", "/o/{slug}/keys/{alice_key_id}/revoke/"),
    ("get", "/o/{slug}/tokens/"),
    ("get", "/o/{slug}/tokens/new/"),
    ("get", "/o/{slug}/tokens/{token_id}/revoke/"),
    ("get", "/o/{slug}/audit/"),
    ("get", "/o/{slug}/routes/"),
    ("get", "/o/{slug}/routes/new/"),
    ("get", "/o/{slug}/routes/{route_id}/"),
    ("get", "/o/{slug}/routes/{route_id}/edit/"),
    ("get", "/o/{slug}/routes/{route_id}/delete/"),
    ("get", "/o/{slug}/provider-keys/"),
    ("get", "/o/{slug}/provider-keys/new/"),
    ("get", "/o/{slug}/provider-keys/{provider_key_id}/revoke/"),
    ("get", "/o/{slug}/budgets/"),
    ("get", "/o/{slug}/budgets/new/"),
    ("get", "/o/{slug}/budgets/settings/"),
    ("get", "/o/{slug}/budgets/{budget_id}/delete/"),
    ("get", "/o/{slug}/projects/{project_id}/limits/"),
    ("get", "/o/{slug}/keys/{alice_key_id}/limits/"),
    ("get", "/o/{slug}/settings/"),
    ("get", "/o/{slug}/usage/"),
]
ACTIONS = [
    ("post", "/o/{slug}/members/invite/"),
    ("post", "/o/{slug}/members/{bob_membership_id}/role/"),
    ("post", "/o/{slug}/members/{bob_membership_id}/remove/"),
    ("post", "/o/{slug}/invitations/{invitation_id}/revoke/"),
    ("post", "/o/{slug}/teams/new/"),
    ("post", "/o/{slug}/projects/new/"),
    ("post", "/o/{slug}/keys/new/"),
    ("post", "/o/{slug}/keys/{alice_key_id}/revoke/"),
    ("post", "/o/{slug}/tokens/new/"),
    ("post", "/o/{slug}/tokens/{token_id}/revoke/"),
    ("post", "/o/{slug}/routes/new/"),
    ("post", "/o/{slug}/routes/{route_id}/edit/"),
    ("post", "/o/{slug}/routes/{route_id}/delete/"),
    ("post", "/o/{slug}/provider-keys/new/"),
    ("post", "/o/{slug}/provider-keys/{provider_key_id}/revoke/"),
    ("post", "/o/{slug}/budgets/new/"),
    ("post", "/o/{slug}/budgets/settings/"),
    ("post", "/o/{slug}/budgets/{budget_id}/delete/"),
    ("post", "/o/{slug}/projects/{project_id}/limits/"),
    ("post", "/o/{slug}/keys/{alice_key_id}/limits/"),
    ("post", "/o/{slug}/settings/"),
    ("post", "/o/{slug}/projects/{project_id}/observability/"),
]
# What a form would send, so a refusal is never just a validation error.
FORM = {
    "email": "eve@evil.test",
    "role": "admin",
    "name": "Intruder",
    "scope": "project",
    "limit_usd": "666",
    "period": "day",
    "on_exhausted": "block",
    "timezone": "Asia/Tokyo",
    "rpm_limit": "1",
    "tpm_limit": "1",
    "enabled": "on",
    "observability": "on",
}

ADMIN_ONLY = [
    ("get", "/o/{slug}/members/invite/"),
    ("get", "/o/{slug}/members/{bob_membership_id}/remove/"),
    ("get", "/o/{slug}/teams/new/"),
    ("get", "/o/{slug}/projects/new/"),
    ("get", "/o/{slug}/keys/{alice_key_id}/revoke/"),
    ("get", "/o/{slug}/audit/"),
    ("get", "/o/{slug}/tokens/"),
    ("get", "/o/{slug}/tokens/new/"),
    ("get", "/o/{slug}/tokens/{token_id}/revoke/"),
    ("post", "/o/{slug}/tokens/new/"),
    ("post", "/o/{slug}/tokens/{token_id}/revoke/"),
    ("post", "/o/{slug}/members/invite/"),
    ("post", "/o/{slug}/members/{alice_membership_id}/role/"),
    ("post", "/o/{slug}/members/{alice_membership_id}/remove/"),
    ("post", "/o/{slug}/invitations/{invitation_id}/revoke/"),
    ("post", "/o/{slug}/teams/new/"),
    ("post", "/o/{slug}/projects/new/"),
    ("post", "/o/{slug}/keys/{alice_key_id}/revoke/"),
    ("get", "/o/{slug}/routes/new/"),
    ("get", "/o/{slug}/routes/{route_id}/edit/"),
    ("get", "/o/{slug}/routes/{route_id}/delete/"),
    ("get", "/o/{slug}/provider-keys/"),
    ("get", "/o/{slug}/provider-keys/new/"),
    ("get", "/o/{slug}/provider-keys/{provider_key_id}/revoke/"),
    ("post", "/o/{slug}/routes/new/"),
    ("post", "/o/{slug}/routes/{route_id}/edit/"),
    ("post", "/o/{slug}/routes/{route_id}/delete/"),
    ("post", "/o/{slug}/provider-keys/new/"),
    ("post", "/o/{slug}/provider-keys/{provider_key_id}/revoke/"),
    ("get", "/o/{slug}/budgets/new/"),
    ("get", "/o/{slug}/budgets/settings/"),
    ("get", "/o/{slug}/budgets/{budget_id}/delete/"),
    ("get", "/o/{slug}/projects/{project_id}/limits/"),
    ("get", "/o/{slug}/keys/{alice_key_id}/limits/"),
    ("post", "/o/{slug}/budgets/new/"),
    ("post", "/o/{slug}/budgets/settings/"),
    ("post", "/o/{slug}/budgets/{budget_id}/delete/"),
    ("post", "/o/{slug}/projects/{project_id}/limits/"),
    ("post", "/o/{slug}/keys/{alice_key_id}/limits/"),
    ("get", "/o/{slug}/settings/"),
    ("post", "/o/{slug}/settings/"),
    ("post", "/o/{slug}/projects/{project_id}/observability/"),
]


def url(template: str, acme: AcmeObjects, slug: str = "acme") -> str:
    return template.format(slug=slug, **vars(acme))


def send(client: Client, method: str, path: str, acme: AcmeObjects) -> int:
    data = {**FORM, "project": acme.project_id, "scope_id": acme.project_id}
    if method != "post":
        data = {}
    status: int = getattr(client, method)(path, data).status_code
    return status


def assert_acme_unchanged(acme: AcmeObjects) -> None:
    assert Membership.objects.get(id=acme.bob_membership_id).role == Role.MEMBER
    assert ApiKey.objects.get(id=acme.alice_key_id).is_active
    assert Invitation.objects.get(id=acme.invitation_id).revoked_at is None
    assert not Team.objects.filter(name="Intruder").exists()
    assert not Project.objects.filter(name="Intruder").exists()
    assert not ApiKey.objects.filter(name="Intruder").exists()
    assert not Invitation.objects.filter(email="eve@evil.test").exists()
    assert ManagementToken.objects.get(id=acme.token_id).is_active
    assert not ManagementToken.objects.filter(name="Intruder").exists()
    assert Route.objects.get(model="gpt-4o").strategy == "priority"
    assert Route.objects.count() == 1
    assert Deployment.objects.count() == 1
    assert ProviderKey.objects.filter(revoked_at=None).count() == 1
    assert Budget.objects.get().limit_nano == 10**9
    assert Organization.objects.get(slug="acme").timezone == "UTC"
    assert Project.objects.get(id=acme.project_id).rpm_limit is None
    assert ApiKey.objects.get(id=acme.alice_key_id).rpm_limit is None
    assert not Organization.objects.get(slug="acme").observability_enabled
    assert Project.objects.get(id=acme.project_id).observability_enabled is None


@pytest.mark.parametrize(("method", "path"), PAGES + ACTIONS)
def test_charlie_gets_404_on_every_acme_page_and_action(
    charlie: Persona, acme: AcmeObjects, method: str, path: str
) -> None:
    assert send(logged_in(charlie), method, url(path, acme), acme) == 404
    assert_acme_unchanged(acme)


OBJECT_URLS = [p for p in PAGES + ACTIONS if "{" in p[1].removeprefix("/o/{slug}/")]


@pytest.mark.parametrize(("method", "path"), OBJECT_URLS)
def test_charlie_gets_404_naming_acme_objects_under_his_own_org(
    charlie: Persona, acme: AcmeObjects, method: str, path: str
) -> None:
    assert send(logged_in(charlie), method, url(path, acme, slug="globex"), acme) == 404
    assert_acme_unchanged(acme)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/o/globex/keys/new/", {"project": "{project_id}", "name": "Intruder"}),
        ("/o/globex/projects/new/", {"name": "Intruder", "team": "{team_id}"}),
        (
            "/o/globex/budgets/new/",
            {"scope": "project", "scope_id": "{project_id}", "limit_usd": "1", "period": "day"},
        ),
        (
            "/o/globex/budgets/new/",
            {"scope": "user", "scope_id": "{alice_user_id}", "limit_usd": "1", "period": "day"},
        ),
        (
            "/o/globex/budgets/new/",
            {"scope": "key", "scope_id": "{alice_key_id}", "limit_usd": "1", "period": "day"},
        ),
        (
            "/o/globex/budgets/new/",
            {"scope": "team", "scope_id": "{team_id}", "limit_usd": "1", "period": "day"},
        ),
    ],
)
def test_charlie_gets_404_naming_acme_objects_in_a_form(
    charlie: Persona, acme: AcmeObjects, path: str, data: dict[str, str]
) -> None:
    filled = {k: v.format(**vars(acme)) for k, v in data.items()}
    assert logged_in(charlie).post(path, filled).status_code == 404
    assert_acme_unchanged(acme)


def test_charlie_cannot_make_an_acme_member_the_owner_of_his_key(
    charlie: Persona, acme: AcmeObjects
) -> None:
    response = logged_in(charlie).post(
        "/o/globex/keys/new/",
        {"project": str(charlie.project.id), "name": "Intruder", "user": acme.alice_user_id},
    )
    assert response.status_code == 404
    assert not ApiKey.objects.filter(name="Intruder").exists()


def test_charlie_gets_the_same_404_for_acme_as_for_an_org_that_does_not_exist(
    charlie: Persona,
) -> None:
    browser = logged_in(charlie)
    assert text(browser.get("/o/acme/")) == text(browser.get("/o/no-such-org/"))


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_bob_gets_403_on_admin_only_pages_and_actions(
    bob: Persona, acme: AcmeObjects, method: str, path: str
) -> None:
    response = getattr(logged_in(bob), method)(
        url(path, acme), {**FORM} if method == "post" else {}
    )
    assert response.status_code == 403
    assert "You don't have access to this" in text(response)
    assert_acme_unchanged(acme)
    assert Membership.objects.get(id=acme.alice_membership_id).role == Role.ADMIN


@pytest.mark.parametrize(
    "path",
    [
        "/o/acme/members/",
        "/o/acme/teams/",
        "/o/acme/projects/",
        "/o/acme/keys/",
        "/o/acme/keys/new/",
        "/o/acme/routes/",
        "/o/acme/budgets/",
    ],
)
def test_bob_as_a_member_sees_the_pages_members_may_see(bob: Persona, path: str) -> None:
    assert logged_in(bob).get(path).status_code == 200


@pytest.mark.parametrize(("method", "path"), PAGES[1:] + ACTIONS)
def test_a_billing_member_sees_only_the_overview(
    bob: Persona, acme: AcmeObjects, method: str, path: str
) -> None:
    Membership.objects.filter(id=acme.bob_membership_id).update(role=Role.BILLING)
    browser = logged_in(bob)
    assert browser.get("/o/acme/").status_code == 200
    assert send(browser, method, url(path, acme), acme) == 403


@pytest.mark.parametrize(("method", "path"), PAGES + ACTIONS)
def test_a_logged_out_visitor_is_sent_to_log_in(acme: AcmeObjects, method: str, path: str) -> None:
    response = getattr(Client(), method)(url(path, acme))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
