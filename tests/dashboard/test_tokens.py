"""Management tokens in the dashboard: created once-visible, listed by prefix, revoked for good."""

from __future__ import annotations

import re

from rest_framework.test import APIClient

from tenants.models import AuditEvent, ManagementToken
from tests.conftest import Persona, logged_in
from tests.dashboard.support import text


def test_an_admin_creates_a_token_that_works_once_shown_and_stops_when_revoked(
    alice: Persona,
) -> None:
    browser = logged_in(alice)
    created = browser.post("/o/acme/tokens/new/", {"name": "terraform"})
    assert created.status_code == 200
    match = re.search(r'value="(mt-[\w-]+)"', created.content.decode())
    assert match, "the new token is shown on the creation page"
    secret = match.group(1)

    listing = text(browser.get("/o/acme/tokens/"))
    token = ManagementToken.objects.get(org=alice.org, name="terraform")
    assert token.prefix in listing
    assert secret not in listing
    assert secret not in (token.hashed, token.prefix)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/projects/").status_code == 200

    revoked = browser.post(f"/o/acme/tokens/{token.id}/revoke/")
    assert revoked.status_code == 302
    assert api.get("/api/v1/projects/").status_code == 401
    assert "Revoked" in text(browser.get("/o/acme/tokens/"))
    actions_logged = set(AuditEvent.objects.filter(org=alice.org).values_list("action", flat=True))
    assert {"management_token.created", "management_token.revoked"} <= actions_logged


def test_a_token_name_is_required_and_bounded(alice: Persona) -> None:
    browser = logged_in(alice)
    assert browser.post("/o/acme/tokens/new/", {"name": "  "}).status_code == 400
    assert browser.post("/o/acme/tokens/new/", {"name": "x" * 500}).status_code == 400
    assert not ManagementToken.objects.filter(org=alice.org).exists()
