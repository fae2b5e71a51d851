"""A management token acts with its creator's admin role, so it works only while they hold it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants import actions
from tenants.models import AuditEvent, ManagementToken, Membership, Project, Role, User
from tests.conftest import PASSWORD, Persona, logged_in


@pytest.fixture
def erin(alice: Persona) -> Persona:
    """A second admin of Acme, so that alice can demote or remove her."""
    user = User.objects.create_user(email="erin@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=user, role=Role.ADMIN)
    return Persona(user=user, org=alice.org, project=alice.project)


def token_of(persona: Persona) -> tuple[ManagementToken, APIClient]:
    issued = actions.issue_management_token(persona.org, "ci", persona.actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return ManagementToken.objects.get(id=issued.id), client


def create_project(api: APIClient, name: str) -> int:
    response = api.post("/api/v1/projects/", {"name": name}, format="json")
    return response.status_code


def assert_refused(api: APIClient, persona: Persona, name: str) -> None:
    """The token is refused with a 401 in the error shape, on a read and on a write."""
    for response in (
        api.get("/api/v1/keys/"),
        api.post(
            "/api/v1/keys/", {"project_id": str(persona.project.id), "name": name}, format="json"
        ),
    ):
        assert response.status_code == 401, response.content
        error = response.json()["error"]
        assert set(error) == {"message", "type", "code", "param"}
        assert error["type"] == "authentication_error"
    assert not Project.objects.filter(name=name).exists()


def membership_of(persona: Persona) -> Membership:
    return Membership.objects.select_related("org", "user").get(org=persona.org, user=persona.user)


def test_it_refuses_a_demoted_admins_token_on_a_read_and_a_write(
    alice: Persona, erin: Persona
) -> None:
    token, api = token_of(erin)
    assert api.get("/api/v1/keys/").status_code == 200

    actions.change_role(membership_of(erin), Role.MEMBER, alice.actor)

    assert_refused(api, erin, "after demotion")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_refuses_a_removed_admins_token_on_a_read_and_a_write(
    alice: Persona, erin: Persona
) -> None:
    token, api = token_of(erin)
    assert create_project(api, "before removal") == 201

    actions.remove_member(membership_of(erin), alice.actor)

    assert_refused(api, erin, "after removal")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_demotion_in_the_dashboard_revokes_the_token_in_the_list_and_the_audit_log(
    alice: Persona, erin: Persona
) -> None:
    token, api = token_of(erin)
    browser = logged_in(alice)
    response = browser.post(
        f"/o/acme/members/{membership_of(erin).id}/role/", {"role": Role.BILLING}
    )
    assert response.status_code == 302

    assert_refused(api, erin, "after a dashboard demotion")
    page = browser.get("/o/acme/tokens/").content.decode()
    row = page[page.index(token.prefix) :].split("</tr>")[0]
    assert "Revoked" in row
    event = AuditEvent.objects.get(action="management_token.revoked", target_id=str(token.id))
    assert event.actor == alice.user
    assert "erin@acme.test is no longer an admin" in event.target_label


def test_a_token_stays_dead_when_its_creator_becomes_admin_again(
    alice: Persona, erin: Persona
) -> None:
    _, api = token_of(erin)
    actions.change_role(membership_of(erin), Role.MEMBER, alice.actor)
    actions.change_role(membership_of(erin), Role.ADMIN, alice.actor)
    assert_refused(api, erin, "after promotion")


def test_a_token_keeps_working_while_its_creator_is_an_admin(
    alice: Persona, erin: Persona, bob: Persona
) -> None:
    token, api = token_of(alice)
    # Other people's role changes leave alice's token alone.
    actions.change_role(membership_of(erin), Role.MEMBER, alice.actor)
    actions.remove_member(membership_of(bob), alice.actor)

    assert api.get("/api/v1/keys/").status_code == 200
    assert create_project(api, "still admin") == 201
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_refuses_a_token_whose_creator_lost_the_role_by_any_path(
    alice: Persona, erin: Persona
) -> None:
    # No action ran (a shell, a data fix, a missed webhook): the check on use still holds.
    _, api = token_of(erin)
    Membership.objects.filter(org=erin.org, user=erin.user).update(role=Role.MEMBER)
    assert_refused(api, erin, "after a raw update")

    Membership.objects.filter(org=erin.org, user=erin.user).update(role=Role.ADMIN)
    assert create_project(api, "back to admin") == 201
    Membership.objects.filter(org=erin.org, user=erin.user).delete()
    assert_refused(api, erin, "after a raw delete")


def test_it_refuses_a_token_whose_creator_is_deactivated(alice: Persona, erin: Persona) -> None:
    _, api = token_of(erin)
    User.objects.filter(id=erin.user.id).update(is_active=False)
    assert_refused(api, erin, "after deactivation")


def test_it_refuses_a_token_whose_creator_was_deleted(alice: Persona, erin: Persona) -> None:
    token, api = token_of(erin)
    erin.user.delete()
    token.refresh_from_db()
    assert token.created_by is None
    assert_refused(api, erin, "after deletion")


def test_an_admin_of_another_org_cannot_carry_a_token_across(
    alice: Persona, charlie: Persona
) -> None:
    # charlie is an admin, but of Globex: his admin role does not make a token of Acme work.
    issued = actions.issue_management_token(alice.org, "ci", charlie.actor)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert_refused(api, alice, "across orgs")
