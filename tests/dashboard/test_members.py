"""Managing members: roles, removal, and the rule that an org keeps at least one admin."""

from __future__ import annotations

from tenants.models import AuditEvent, Membership, Role
from tests.conftest import Persona, logged_in
from tests.dashboard.conftest import AcmeObjects
from tests.dashboard.support import text


def test_an_admin_changes_a_members_role(alice: Persona, acme: AcmeObjects) -> None:
    browser = logged_in(alice)
    response = browser.post(
        f"/o/acme/members/{acme.bob_membership_id}/role/", {"role": "admin"}, follow=True
    )
    assert "bob@acme.test is now Admin." in text(response)
    assert Membership.objects.get(id=acme.bob_membership_id).role == Role.ADMIN
    event = AuditEvent.objects.filter(org=alice.org, action="member.role_changed").get()
    assert event.target_label == "bob@acme.test: member → admin"


def test_an_unknown_role_is_refused(alice: Persona, acme: AcmeObjects) -> None:
    response = logged_in(alice).post(
        f"/o/acme/members/{acme.bob_membership_id}/role/", {"role": "owner"}, follow=True
    )
    assert "Choose a role" in text(response)
    assert Membership.objects.get(id=acme.bob_membership_id).role == Role.MEMBER


def test_the_last_admin_cannot_stop_being_admin(alice: Persona, acme: AcmeObjects) -> None:
    response = logged_in(alice).post(
        f"/o/acme/members/{acme.alice_membership_id}/role/", {"role": "member"}, follow=True
    )
    assert "An organization needs at least one admin." in text(response)
    assert Membership.objects.get(id=acme.alice_membership_id).role == Role.ADMIN


def test_the_last_admin_cannot_be_removed(alice: Persona, acme: AcmeObjects) -> None:
    url = f"/o/acme/members/{acme.alice_membership_id}/remove/"
    browser = logged_in(alice)
    assert "Leave Acme" in text(browser.get(url))
    response = browser.post(url, follow=True)
    assert "An organization needs at least one admin." in text(response)
    assert Membership.objects.filter(id=acme.alice_membership_id).exists()


def test_an_admin_removes_a_member_after_confirming(
    alice: Persona, bob: Persona, acme: AcmeObjects
) -> None:
    url = f"/o/acme/members/{acme.bob_membership_id}/remove/"
    browser = logged_in(alice)
    confirm = browser.get(url)
    assert "Remove bob@acme.test" in text(confirm)
    assert Membership.objects.filter(id=acme.bob_membership_id).exists()

    response = browser.post(url, follow=True)
    assert "bob@acme.test was removed from Acme." in text(response)
    assert not Membership.objects.filter(id=acme.bob_membership_id).exists()
    assert logged_in(bob).get("/o/acme/").status_code == 404


def test_a_second_admin_may_leave(alice: Persona, bob: Persona, acme: AcmeObjects) -> None:
    Membership.objects.filter(id=acme.bob_membership_id).update(role=Role.ADMIN)
    response = logged_in(bob).post(f"/o/acme/members/{acme.bob_membership_id}/remove/")
    assert response["Location"] == "/"
    assert not Membership.objects.filter(id=acme.bob_membership_id).exists()


def test_an_admin_sees_pending_invitations_and_revokes_one(
    alice: Persona, acme: AcmeObjects
) -> None:
    browser = logged_in(alice)
    assert "dana@acme.test" in text(browser.get("/o/acme/members/"))
    revoked = browser.post(f"/o/acme/invitations/{acme.invitation_id}/revoke/", follow=True)
    assert "The invitation for dana@acme.test was revoked." in text(revoked)
    assert "dana@acme.test" not in text(browser.get("/o/acme/members/"))


def test_a_member_sees_who_is_in_the_org_but_neither_invitations_nor_controls(
    bob: Persona, acme: AcmeObjects
) -> None:
    page = text(logged_in(bob).get("/o/acme/members/"))
    assert "alice@acme.test" in page
    assert "dana@acme.test" not in page
    assert "/role/" not in page
    assert "/remove/" not in page
    assert "Invite member" not in page
