"""The invitation link: created by an admin, shown once, accepted once, refused when stale."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tenants import actions
from tenants.models import Invitation, Membership, Organization, Role, User
from tests.conftest import PASSWORD, Persona, logged_in
from tests.dashboard.support import submit, text


def invite(admin: Persona, email: str, role: str = Role.MEMBER) -> str:
    """Invite through the page as `admin`; return the invitation's path from the link shown."""
    response = submit(logged_in(admin), "/o/acme/members/invite/", {"email": email, "role": role})
    assert response.status_code == 200
    match = re.search(r'value="http://[^/"]+(/invite/inv-[^/"]+/)"', text(response))
    assert match, "the invitation link is not on the page"
    return match.group(1)


def test_an_admin_invites_and_the_link_is_shown_once_with_the_site_url(alice: Persona) -> None:
    browser = logged_in(alice)
    response = submit(
        browser, "/o/acme/members/invite/", {"email": "Dana@Acme.test", "role": "billing"}
    )
    body = text(response)
    assert 'value="http://localhost:8000/invite/inv-' in body
    assert response["Cache-Control"].startswith("max-age=0")
    invitation = Invitation.objects.get(org=alice.org)
    assert (invitation.email, invitation.role) == ("dana@acme.test", "billing")

    members = text(browser.get("/o/acme/members/"))
    assert "dana@acme.test" in members
    assert "/invite/inv-" not in members


def test_a_logged_in_person_accepts_and_joins_with_the_invited_role(
    alice: Persona, charlie: Persona
) -> None:
    path = invite(alice, "charlie@globex.test", Role.BILLING)
    browser = logged_in(charlie)
    page = browser.get(path)
    assert page.status_code == 200
    assert "Join Acme" in text(page)

    accepted = browser.post(path)
    assert accepted["Location"] == "/o/acme/"
    assert Membership.objects.get(org=alice.org, user=charlie.user).role == Role.BILLING
    assert browser.session["org_id"] == str(alice.org.id)


def test_a_new_person_signs_up_from_the_link_without_creating_an_org(alice: Persona) -> None:
    path = invite(alice, "dana@acme.test")
    browser = Client(enforce_csrf_checks=True)
    response = submit(
        browser, path, {"email": "dana@acme.test", "password": PASSWORD}, action=f"{path}signup/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/"
    dana = User.objects.get(email="dana@acme.test")
    assert [m.org.slug for m in Membership.objects.filter(user=dana)] == ["acme"]
    assert Organization.objects.count() == 1
    assert browser.get("/o/acme/").status_code == 200


def test_signing_up_from_the_link_with_a_taken_email_changes_nothing(
    alice: Persona, bob: Persona
) -> None:
    path = invite(alice, "bob2@acme.test")
    response = submit(
        Client(), path, {"email": "bob@acme.test", "password": PASSWORD}, action=f"{path}signup/"
    )
    assert response.status_code == 400
    assert "An account with this email already exists" in text(response)
    assert Invitation.objects.get(org=alice.org).accepted_at is None


def test_a_logged_out_person_logs_in_and_then_accepts(alice: Persona, charlie: Persona) -> None:
    path = invite(alice, "charlie@globex.test")
    browser = Client()
    assert "Log in to accept" in text(browser.get(path))
    logged = browser.post(
        f"/login/?next={path}", {"email": "charlie@globex.test", "password": PASSWORD}
    )
    assert logged["Location"] == path
    assert browser.post(path)["Location"] == "/o/acme/"
    assert Membership.objects.filter(org=alice.org, user=charlie.user).exists()


def test_an_invitation_link_cannot_be_used_twice(alice: Persona, charlie: Persona) -> None:
    path = invite(alice, "charlie@globex.test")
    logged_in(charlie).post(path)
    second = Client().get(path)
    assert second.status_code == 410
    assert "This invitation is no longer valid" in text(second)
    again = Client().post(f"{path}signup/", {"email": "eve@evil.test", "password": PASSWORD})
    assert again.status_code == 410
    assert not User.objects.filter(email="eve@evil.test").exists()


def test_an_expired_invitation_is_refused(alice: Persona, charlie: Persona) -> None:
    path = invite(alice, "charlie@globex.test")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    browser = logged_in(charlie)
    assert browser.get(path).status_code == 410
    refused = browser.post(path)
    assert refused.status_code == 410
    assert "This invitation is no longer valid" in text(refused)
    assert not Membership.objects.filter(org=alice.org, user=charlie.user).exists()


def test_a_revoked_invitation_is_refused(alice: Persona, charlie: Persona) -> None:
    path = invite(alice, "charlie@globex.test")
    invitation = Invitation.objects.get(org=alice.org)
    revoke = logged_in(alice).post(f"/o/acme/invitations/{invitation.id}/revoke/", follow=True)
    assert "was revoked" in text(revoke)
    assert logged_in(charlie).post(path).status_code == 410


def test_a_made_up_token_is_refused(db: None) -> None:
    assert Client().get("/invite/inv-not-a-real-token-at-all/").status_code == 410


def test_the_invitation_page_escapes_the_org_name(charlie: Persona) -> None:
    org = Organization.objects.create(name="<b>Evil</b> & Co", slug="evil")
    Membership.objects.create(org=org, user=charlie.user, role=Role.ADMIN)
    _, token = actions.invite_member(org, "x@y.test", Role.MEMBER, charlie.actor)
    body = text(Client().get(f"/invite/{token}/"))
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in body
    assert "<b>Evil</b>" not in body
