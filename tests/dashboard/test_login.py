"""Logging in and out, the home redirect, and Clerk mode's hand-off to Clerk's pages."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.conftest import PASSWORD, Persona, logged_in
from tests.dashboard.support import csrf_token, submit, text

CLERK = {"SELIXES_AUTH": "clerk", "CLERK_SIGN_IN_URL": "https://accounts.example.test/sign-in"}


def test_logging_in_opens_the_org_and_sets_only_session_and_csrf_cookies(alice: Persona) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    response = browser.post(
        "/login/",
        {"email": "Alice@Acme.test", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/o/acme/"
    assert "Acme" in text(response)
    assert set(browser.cookies) == {"sessionid", "csrftoken"}


def test_a_wrong_password_shows_an_error_and_does_not_log_in(alice: Persona) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = submit(browser, "/login/", {"email": "alice@acme.test", "password": "nope"})
    assert response.status_code == 400
    assert "Email or password is incorrect." in text(response)
    assert browser.get("/o/acme/").status_code == 302


def test_logout_by_get_does_not_log_out(alice: Persona) -> None:
    browser = logged_in(alice)
    assert browser.get("/logout/").status_code == 405
    assert browser.get("/o/acme/").status_code == 200


def test_logout_by_post_without_csrf_token_does_not_log_out(alice: Persona) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    assert browser.post("/logout/").status_code == 403
    assert browser.get("/o/acme/").status_code == 200


def test_logout_by_post_logs_out(alice: Persona) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    page = browser.get("/o/acme/")
    response = browser.post("/logout/", {"csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert browser.get("/o/acme/")["Location"].startswith("/login/")


def test_login_follows_a_next_url_on_this_site_only(alice: Persona) -> None:
    browser = Client()
    inside = browser.post(
        "/login/?next=/o/acme/keys/", {"email": "alice@acme.test", "password": PASSWORD}
    )
    assert inside["Location"] == "/o/acme/keys/"
    browser = Client()
    outside = browser.post(
        "/login/",
        {"email": "alice@acme.test", "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert outside["Location"] == "/"


@pytest.mark.django_db
def test_home_sends_a_logged_out_person_to_the_login_page() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_home_sends_a_member_to_the_org_they_opened_last(alice: Persona) -> None:
    browser = logged_in(alice)
    assert browser.get("/")["Location"] == "/o/acme/"
    submit(browser, "/orgs/new/", {"name": "Second"})
    assert browser.get("/")["Location"] == "/o/second/"
    browser.get("/o/acme/")
    assert browser.get("/")["Location"] == "/o/acme/"


def test_an_org_page_sends_a_logged_out_person_to_log_in_first(alice: Persona) -> None:
    response = Client().get("/o/acme/keys/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/o/acme/keys/"


@override_settings(**CLERK)
@pytest.mark.django_db
def test_in_clerk_mode_login_and_signup_send_people_to_clerk() -> None:
    for url in ("/login/", "/signup/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"] == CLERK["CLERK_SIGN_IN_URL"]


@override_settings(**CLERK)
def test_in_clerk_mode_logout_clears_the_session(alice: Persona) -> None:
    browser = logged_in(alice)
    assert browser.post("/logout/").status_code == 302
    assert "_auth_user_id" not in browser.session
    assert browser.get("/o/acme/").status_code == 302
