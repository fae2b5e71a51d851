"""The REST API and the dashboard give each role what the role matrix says, and nothing more.

One table: for every area, a request through the API (with the dashboard
session) and the dashboard page that does the same thing. Each role must get
the same answer from both doors, and the answer the matrix (tenants.roles)
gives, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from tenants import actions
from tenants.api.auth import RoleMatrixPermission
from tenants.models import ApiKey, Membership, Role, User
from tenants.roles import Access, Area, may
from tests.conftest import PASSWORD, Persona, logged_in


@dataclass(frozen=True)
class Door:
    """One request, and what it answers when the role may make it."""

    method: str
    path: str
    allowed: int
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Check:
    area: Area
    needed: Access
    api: Door | None  # None: the API has no endpoint for this (yet)
    page: Door | None  # None: the dashboard shows this on another row's page

    @property
    def id(self) -> str:
        door = self.api or self.page
        assert door is not None
        return f"{self.area}-{self.needed.name.lower()}-{door.method} {door.path}"


# Writes send a body that fails validation: a role that may write gets a 400
# and nothing changes; one that may not gets a 403 before the body is read.
CHECKS = [
    Check(Area.OVERVIEW, Access.READ, None, Door("get", "/o/acme/", 200)),
    Check(Area.MEMBERS, Access.READ, None, Door("get", "/o/acme/members/", 200)),
    Check(Area.MEMBERS, Access.WRITE, None, Door("get", "/o/acme/members/invite/", 200)),
    Check(
        Area.PROJECTS,
        Access.READ,
        Door("get", "/api/v1/projects/", 200),
        Door("get", "/o/acme/projects/", 200),
    ),
    Check(
        Area.PROJECTS,
        Access.READ,
        Door("get", "/api/v1/teams/", 200),
        Door("get", "/o/acme/teams/", 200),
    ),
    Check(
        Area.PROJECTS,
        Access.WRITE,
        Door("post", "/api/v1/projects/", 400, {}),
        Door("get", "/o/acme/projects/new/", 200),
    ),
    Check(
        Area.PROJECTS,
        Access.WRITE,
        Door("patch", "/api/v1/projects/{project_id}/", 400, {"rpm_limit": 0}),
        Door("get", "/o/acme/projects/{project_id}/limits/", 200),
    ),
    Check(
        Area.KEYS,
        Access.READ,
        Door("get", "/api/v1/keys/", 200),
        Door("get", "/o/acme/keys/", 200),
    ),
    Check(
        Area.KEYS,
        Access.OWN,
        Door("post", "/api/v1/keys/", 400, {}),
        Door("get", "/o/acme/keys/new/", 200),
    ),
    Check(
        Area.KEYS,
        Access.WRITE,
        Door("patch", "/api/v1/keys/{key_id}/", 400, {"rpm_limit": 0}),
        Door("get", "/o/acme/keys/{key_id}/limits/", 200),
    ),
    Check(
        Area.ROUTES,
        Access.READ,
        Door("get", "/api/v1/routes/", 200),
        Door("get", "/o/acme/routes/", 200),
    ),
    Check(Area.ROUTES, Access.READ, None, Door("get", "/o/acme/routing-health/", 200)),
    Check(
        Area.ROUTES,
        Access.WRITE,
        Door("put", "/api/v1/routes/gpt-x/", 400, {}),
        Door("get", "/o/acme/routes/new/", 200),
    ),
    Check(
        Area.PROVIDER_KEYS,
        Access.READ,
        Door("get", "/api/v1/provider-keys/", 200),
        Door("get", "/o/acme/provider-keys/", 200),
    ),
    Check(
        Area.PROVIDER_KEYS,
        Access.WRITE,
        Door("post", "/api/v1/provider-keys/", 400, {}),
        Door("get", "/o/acme/provider-keys/new/", 200),
    ),
    Check(
        Area.BUDGETS,
        Access.READ,
        Door("get", "/api/v1/budgets/", 200),
        Door("get", "/o/acme/budgets/", 200),
    ),
    # The budgets page shows the settings too.
    Check(Area.BUDGETS, Access.READ, Door("get", "/api/v1/budget-settings/", 200), None),
    Check(
        Area.BUDGETS,
        Access.WRITE,
        Door("post", "/api/v1/budgets/", 400, {}),
        Door("get", "/o/acme/budgets/new/", 200),
    ),
    Check(
        Area.BUDGETS,
        Access.WRITE,
        Door("patch", "/api/v1/budget-settings/", 400, {"timezone": "Nowhere/Else"}),
        Door("get", "/o/acme/budgets/settings/", 200),
    ),
    Check(
        Area.PII_POLICY,
        Access.READ,
        Door("get", "/api/v1/pii-policy/", 200),
        Door("get", "/o/acme/pii-policy/", 200),
    ),
    Check(
        Area.PII_POLICY,
        Access.READ,
        # 404 no_override: the project follows the org's policy.
        Door("get", "/api/v1/projects/{project_id}/pii-policy/", 404),
        Door("get", "/o/acme/projects/{project_id}/pii-policy/", 200),
    ),
    Check(
        Area.PII_POLICY,
        Access.WRITE,
        Door("put", "/api/v1/pii-policy/", 400, {}),
        Door("post", "/o/acme/pii-policy/", 400, {}),
    ),
    Check(
        Area.REQUESTS,
        Access.READ,
        Door("get", "/api/v1/requests/", 200),
        Door("get", "/o/acme/requests/", 200),
    ),
    Check(Area.TOKENS, Access.READ, None, Door("get", "/o/acme/tokens/", 200)),
    Check(Area.TOKENS, Access.WRITE, None, Door("get", "/o/acme/tokens/new/", 200)),
    Check(Area.AUDIT, Access.READ, None, Door("get", "/o/acme/audit/", 200)),
    # The settings page shows the toggle's form: it needs what changing it needs.
    Check(
        Area.OBSERVABILITY,
        Access.READ,
        Door("get", "/api/v1/observability/", 200),
        Door("get", "/o/acme/settings/", 200),
    ),
    Check(
        Area.OBSERVABILITY,
        Access.WRITE,
        Door("put", "/api/v1/observability/", 400, {}),
        Door("post", "/o/acme/settings/", 400, {}),
    ),
    Check(
        Area.OBSERVABILITY,
        Access.WRITE,
        Door("put", "/api/v1/projects/{project_id}/observability/", 400, {}),
        None,
    ),
    # Traces are read as the request log is; 404 trace_not_found: none is kept.
    Check(
        Area.REQUESTS,
        Access.READ,
        Door("get", "/api/v1/traces/0123456789abcdef0123456789abcdef/", 404),
        None,
    ),
]
ROLES = [Role.ADMIN, Role.MEMBER, Role.BILLING]


@pytest.fixture
def bill(alice: Persona) -> Persona:
    """The billing member of Acme."""
    user = User.objects.create_user(email="bill@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=user, role=Role.BILLING)
    return Persona(user=user, org=alice.org, project=alice.project)


@pytest.fixture
def people(alice: Persona, bob: Persona, bill: Persona) -> dict[str, Persona]:
    return {Role.ADMIN: alice, Role.MEMBER: bob, Role.BILLING: bill}


def send(client: Client, door: Door, names: dict[str, str]) -> Any:
    path = door.path.format(**names)
    if door.body is None:
        return getattr(client, door.method)(path)
    if path.startswith("/api/"):
        return getattr(client, door.method)(path, door.body, content_type="application/json")
    return getattr(client, door.method)(path, door.body)


def assert_refused_as_json(response: Any) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "permission_error"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("check", CHECKS, ids=[check.id for check in CHECKS])
def test_each_role_gets_from_the_api_and_the_dashboard_what_the_matrix_says(
    people: dict[str, Persona], role: str, check: Check
) -> None:
    persona = people[role]
    key = actions.issue_api_key(persona.project, "theirs", people[Role.ADMIN].actor)
    names = {"project_id": str(persona.project.id), "key_id": key.id}
    allowed = may(role, check.area, check.needed)
    browser = logged_in(persona)
    if check.api is not None:
        response = send(browser, check.api, names)
        if allowed:
            assert response.status_code == check.api.allowed, response.content
        else:
            assert_refused_as_json(response)
    if check.page is not None:
        page = send(browser, check.page, names)
        assert page.status_code == (check.page.allowed if allowed else 403)


def test_the_table_covers_every_area_a_page_or_an_endpoint_serves() -> None:
    # Billing has no page or endpoint yet; the matrix already decides it.
    assert {check.area for check in CHECKS} == set(Area) - {Area.BILLING}


def test_every_api_endpoint_applies_the_role_matrix() -> None:
    """A new endpoint that forgets the matrix would let every role of the org in."""
    guarded: list[str | None] = []
    unguarded: list[str | None] = []
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/v1/":
            continue
        for endpoint in getattr(pattern, "url_patterns", []):
            assert isinstance(endpoint, URLPattern)
            view = getattr(endpoint.callback, "cls", None)
            if view is None or endpoint.name == "api-schema":
                continue
            guards = view.permission_classes
            matrix = any(issubclass(guard, RoleMatrixPermission) for guard in guards)
            (guarded if matrix else unguarded).append(endpoint.name)
    assert unguarded == []
    assert {"api-keys", "api-routes", "api-budgets", "api-pii-policy", "api-requests"} <= set(
        guarded
    )


def test_a_billing_user_reads_none_of_keys_routes_requests_budgets_or_policies(
    bill: Persona,
) -> None:
    browser = logged_in(bill)
    for path in (
        "/api/v1/keys/",
        "/api/v1/routes/",
        "/api/v1/requests/",
        "/api/v1/budgets/",
        "/api/v1/budget-settings/",
        "/api/v1/pii-policy/",
        "/api/v1/projects/",
    ):
        response = browser.get(path)
        assert_refused_as_json(response)
        assert "billing role may not read" in response.json()["error"]["message"]


def test_another_orgs_object_stays_a_404_and_a_refused_role_learns_nothing(
    alice: Persona, bill: Persona, charlie: Persona
) -> None:
    acme_key = actions.issue_api_key(alice.project, "acme", alice.actor)
    globex_key = actions.issue_api_key(charlie.project, "globex", charlie.actor)
    assert logged_in(charlie).get(f"/api/v1/keys/{acme_key.id}/").status_code == 404
    # The billing user gets the same 403 for a key of theirs and one of Globex's.
    billing = logged_in(bill)
    assert_refused_as_json(billing.get(f"/api/v1/keys/{acme_key.id}/"))
    assert_refused_as_json(billing.get(f"/api/v1/keys/{globex_key.id}/"))


def test_a_member_creates_and_revokes_keys_of_their_own_through_the_api(
    alice: Persona, bob: Persona
) -> None:
    browser = logged_in(bob)
    project = str(bob.project.id)
    response = browser.post(
        "/api/v1/keys/", {"project_id": project, "name": "mine"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    mine = ApiKey.objects.get(id=response.json()["id"])
    assert mine.user == bob.user

    assert browser.delete(f"/api/v1/keys/{mine.id}/").status_code == 204
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_a_member_may_not_create_change_or_revoke_anyone_elses_key_through_the_api(
    alice: Persona, bob: Persona
) -> None:
    browser = logged_in(bob)
    for_alice = browser.post(
        "/api/v1/keys/",
        {"project_id": str(bob.project.id), "name": "hers", "user_id": str(alice.user.id)},
        content_type="application/json",
    )
    assert_refused_as_json(for_alice)
    assert not ApiKey.objects.filter(name="hers").exists()

    hers = actions.issue_api_key(alice.project, "alice's", alice.actor, user=alice.user)
    assert_refused_as_json(browser.delete(f"/api/v1/keys/{hers.id}/"))
    limits = {"rpm_limit": 5}
    assert_refused_as_json(
        browser.patch(f"/api/v1/keys/{hers.id}/", limits, content_type="application/json")
    )
    stored = ApiKey.objects.get(id=hers.id)
    assert stored.revoked_at is None and stored.rpm_limit is None
