"""Signing up: one real POST creates the account, the org, the admin membership and a project."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import Membership, Organization, Project, Role, User
from tests.conftest import PASSWORD, Persona, logged_in
from tests.dashboard.support import csrf_token, submit, text

pytestmark = pytest.mark.django_db

SIGNUP = {"email": "Dana@Initech.test", "password": PASSWORD, "organization": "Initech"}


def test_signing_up_creates_account_org_admin_membership_and_default_project() -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/signup/")
    response = browser.post("/signup/", {**SIGNUP, "csrfmiddlewaretoken": csrf_token(page)})

    assert response.status_code == 302
    assert response["Location"] == "/o/initech/"
    user = User.objects.get(email="dana@initech.test")
    org = Organization.objects.get(slug="initech")
    assert org.name == "Initech"
    assert Membership.objects.get(org=org, user=user).role == Role.ADMIN
    assert list(Project.objects.filter(org=org).values_list("name", flat=True)) == ["Default"]
    overview = browser.get("/o/initech/")
    assert overview.status_code == 200
    assert "Initech is ready" in text(overview)


def test_signing_up_sets_only_the_session_and_csrf_cookies() -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/signup/")
    signup = browser.post("/signup/", {**SIGNUP, "csrfmiddlewaretoken": csrf_token(page)})
    overview = browser.get(signup["Location"])

    set_anywhere = {name for r in (page, signup, overview) for name in r.cookies}
    assert set_anywhere <= {"sessionid", "csrftoken"}
    assert set(browser.cookies) == {"sessionid", "csrftoken"}
    assert browser.cookies["sessionid"]["httponly"]


def test_signing_up_without_the_csrf_token_is_refused() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/signup/")
    response = browser.post("/signup/", SIGNUP)
    assert response.status_code == 403
    assert not User.objects.exists()


def test_signing_up_with_a_taken_email_shows_an_error_and_creates_nothing(alice: Persona) -> None:
    response = submit(
        Client(enforce_csrf_checks=True),
        "/signup/",
        {"email": "ALICE@acme.test", "password": PASSWORD, "organization": "Alice Two"},
    )
    assert response.status_code == 400
    assert "An account with this email already exists" in text(response)
    assert User.objects.filter(email__iexact="alice@acme.test").count() == 1
    assert not Organization.objects.filter(name="Alice Two").exists()


def test_signing_up_an_org_whose_address_is_taken_is_refused_and_creates_nothing(
    alice: Persona,
) -> None:
    response = submit(
        Client(),
        "/signup/",
        {"email": "eve@evil.test", "password": PASSWORD, "organization": "ACME"},
    )
    assert response.status_code == 400
    assert "An organization with the address" in text(response)
    assert not User.objects.filter(email="eve@evil.test").exists()
    assert Organization.objects.filter(slug="acme").count() == 1


def test_signing_up_refuses_a_common_password() -> None:
    response = submit(
        Client(), "/signup/", {"email": "a@b.test", "password": "password", "organization": "X"}
    )
    assert response.status_code == 400
    assert "This password is too common." in text(response)
    assert not User.objects.exists()


def test_signing_up_refuses_control_characters_in_the_org_name() -> None:
    response = submit(
        Client(),
        "/signup/",
        {"email": "a@b.test", "password": PASSWORD, "organization": "Acme\x1b[31m"},
    )
    assert response.status_code == 400
    assert "Control characters are not allowed." in text(response)
    assert not Organization.objects.exists()


def test_signing_up_strips_the_org_name_and_refuses_one_too_long() -> None:
    browser = Client()
    too_long = submit(
        browser, "/signup/", {"email": "a@b.test", "password": PASSWORD, "organization": "x" * 101}
    )
    assert too_long.status_code == 400
    assert not Organization.objects.exists()
    ok = submit(
        browser,
        "/signup/",
        {"email": "a@b.test", "password": PASSWORD, "organization": "  Hooli  "},
    )
    assert ok.status_code == 302
    assert Organization.objects.get(slug="hooli").name == "Hooli"


def test_a_member_creates_a_second_org_but_not_one_whose_address_is_taken(
    alice: Persona, charlie: Persona
) -> None:
    browser = logged_in(alice)
    taken = submit(browser, "/orgs/new/", {"name": "Globex"})
    assert taken.status_code == 400
    assert "An organization with the address &#x27;globex&#x27; already exists." in text(taken)
    assert Organization.objects.filter(slug="globex").count() == 1

    created = submit(browser, "/orgs/new/", {"name": "Acme Labs"})
    assert created.status_code == 302
    org = Organization.objects.get(slug="acme-labs")
    assert Membership.objects.get(org=org, user=alice.user).role == Role.ADMIN
    assert Project.objects.filter(org=org, name="Default").exists()
    assert browser.session["org_id"] == str(org.id)
