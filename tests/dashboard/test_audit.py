"""The audit log: the org's own events, newest first, with who, what, target, when and IP."""

from __future__ import annotations

import re

from tenants.models import AuditEvent
from tests.conftest import Persona, logged_in
from tests.dashboard.support import submit, text


def test_the_audit_log_shows_who_did_what_to_which_target_from_where(
    alice: Persona, charlie: Persona
) -> None:
    browser = logged_in(alice)
    submit(browser, "/o/acme/teams/new/", {"name": "Research"})
    body = text(browser.get("/o/acme/audit/"))
    rows = re.findall(r"<tr>\s*<td class=\"muted nowrap\">.*?</tr>", body, re.S)
    newest = rows[0]
    assert "alice@acme.test" in newest
    assert "team.created" in newest
    assert "Research" in newest
    assert "127.0.0.1" in newest
    assert "project.created" in rows[1]
    assert "globex" not in body.lower()


def test_the_audit_log_is_paginated_newest_first(alice: Persona) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(org=alice.org, actor_label="script", action=f"test.event{i:03d}")
        for i in range(60)
    )
    browser = logged_in(alice)
    first = text(browser.get("/o/acme/audit/"))
    assert "test.event059" in first
    assert "test.event009" not in first
    assert "Page 1 of 2" in first
    second = text(browser.get("/o/acme/audit/?page=2"))
    assert "test.event009" in second
    assert "test.event059" not in second
