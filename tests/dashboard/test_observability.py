"""The observability toggle on the settings and project pages, and the trace viewer."""

from __future__ import annotations

import base64
import os
from typing import Any

from observability.models import DataKey
from tenants.models import AuditEvent, Membership, Organization, Project, Role, User
from tests.conftest import PASSWORD, Persona, logged_in
from tests.dashboard.support import submit, text
from tests.factories.kept_traces import a_payload, kept_trace, logged_request

SETTINGS = "/o/acme/settings/"


def project_page(persona: Persona) -> str:
    return f"/o/acme/projects/{persona.project.id}/"


def project_action(persona: Persona) -> str:
    return f"/o/acme/projects/{persona.project.id}/observability/"


def org_enabled(persona: Persona) -> bool:
    return Organization.objects.get(id=persona.org.id).observability_enabled


def test_the_nav_links_settings_for_admins_only(alice: Persona, bob: Persona) -> None:
    assert 'href="/o/acme/settings/"' in text(logged_in(alice).get("/o/acme/"))
    assert 'href="/o/acme/settings/"' not in text(logged_in(bob).get("/o/acme/"))


def test_alice_turns_observability_on_and_off_from_the_settings_page(alice: Persona) -> None:
    browser = logged_in(alice)
    page = text(browser.get(SETTINGS))
    assert "Off" in page and "30 days" in page and "never stored" in page
    response = submit(browser, SETTINGS, {"enabled": "on"})
    assert response.status_code == 302
    assert org_enabled(alice)
    assert DataKey.objects.filter(org=alice.org).count() == 3
    shown = text(browser.get(SETTINGS))
    assert "Observability is on for Acme." in shown
    assert "Turn observability off" in shown

    submit(browser, SETTINGS, {"enabled": "off"})
    assert not org_enabled(alice)
    actions = AuditEvent.objects.filter(org=alice.org, action="observability.updated")
    assert list(actions.order_by("id").values_list("actor_label", "target_label")) == [
        ("alice@acme.test", "traces on (organization)"),
        ("alice@acme.test", "traces off (organization)"),
    ]


def test_a_settings_post_without_a_choice_changes_nothing(alice: Persona) -> None:
    response = submit(logged_in(alice), SETTINGS, {"enabled": "maybe"})
    assert response.status_code == 400
    assert not org_enabled(alice)


def test_the_project_page_shows_the_setting_and_alice_overrides_it(alice: Persona) -> None:
    browser = logged_in(alice)
    page = text(browser.get(project_page(alice)))
    assert "Follows the organization" in page
    assert "30 days" in page

    response = submit(browser, project_page(alice), {"observability": "on"}, project_action(alice))
    assert response.status_code == 302
    assert Project.objects.get(id=alice.project.id).observability_enabled is True
    page = text(browser.get(project_page(alice)))
    assert "This project's own setting." in page
    assert '<option value="on" selected>' in page

    submit(browser, project_page(alice), {"observability": "org"}, project_action(alice))
    assert Project.objects.get(id=alice.project.id).observability_enabled is None
    submit(browser, project_page(alice), {"observability": "sometimes"}, project_action(alice))
    assert Project.objects.get(id=alice.project.id).observability_enabled is None


def test_bob_neither_sees_nor_changes_the_projects_setting(alice: Persona, bob: Persona) -> None:
    """Observability is an admin's area (tenants.roles), on every page and in the API."""
    browser = logged_in(bob)
    page = text(browser.get(project_page(bob)))
    assert page.count("Observability") == 0
    assert "Save observability" not in page
    assert browser.get(SETTINGS).status_code == 403
    assert browser.post(project_action(bob), {"observability": "on"}).status_code == 403
    assert Project.objects.get(id=alice.project.id).observability_enabled is None


def test_the_request_page_links_the_trace_only_when_one_is_kept(alice: Persona) -> None:
    browser = logged_in(alice)
    without = logged_request(alice.org, "a" * 32)
    assert "View trace" not in text(browser.get(f"/o/acme/requests/{without.request_id}/"))
    trace = kept_trace(alice.org)
    logged_request(alice.org, trace.request_id)
    page = text(browser.get(f"/o/acme/requests/{trace.request_id}/"))
    assert f'href="/o/acme/requests/{trace.request_id}/trace/"' in page
    # Shredded (its day's key destroyed): nothing left to view, no link.
    DataKey.objects.filter(org=alice.org).delete()
    assert "View trace" not in text(browser.get(f"/o/acme/requests/{trace.request_id}/"))


def test_the_viewer_shows_the_payloads_escaped_and_audits_each_view(
    alice: Persona, bob: Persona
) -> None:
    trace = kept_trace(alice.org, a_payload(truncated=True))
    url = f"/o/acme/requests/{trace.request_id}/trace/"
    response = logged_in(bob).get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = text(response)
    # Pretty-printed JSON, and the payload's markup shown as text, never run.
    assert "&quot;role&quot;: &quot;user&quot;" in page
    assert "Say &lt;b&gt;hello&lt;/b&gt; &amp; wave" in page
    assert "Hello! &lt;script&gt;" in page
    assert "<script>" not in page.split("</main>")[0].split("<main")[1]
    assert "Truncated" in page
    logged_in(alice).get(url)
    views = AuditEvent.objects.filter(org=alice.org, action="trace.viewed").order_by("id")
    assert list(views.values_list("actor_label", flat=True)) == [
        "bob@acme.test",
        "alice@acme.test",
    ]


def test_the_viewer_says_why_there_is_nothing_to_show(alice: Persona, settings: Any) -> None:
    browser = logged_in(alice)
    missing = browser.get(f"/o/acme/requests/{'b' * 32}/trace/")
    assert missing.status_code == 404
    assert "No trace is kept for this request" in text(missing)

    trace = kept_trace(alice.org)
    settings.SELIXES_MASTER_KEYS = f"other:{base64.b64encode(os.urandom(32)).decode()}"
    unavailable = browser.get(f"/o/acme/requests/{trace.request_id}/trace/")
    assert unavailable.status_code == 404
    assert "master key" in text(unavailable)
    assert not AuditEvent.objects.filter(action="trace.viewed").exists()


def test_outsiders_and_billing_never_see_a_trace(alice: Persona, charlie: Persona) -> None:
    trace = kept_trace(alice.org)
    assert logged_in(charlie).get(f"/o/acme/requests/{trace.request_id}/trace/").status_code == 404
    # Under his own org, Acme's request id is a trace Globex does not have.
    assert (
        logged_in(charlie).get(f"/o/globex/requests/{trace.request_id}/trace/").status_code == 404
    )
    bill = User.objects.create_user(email="bill@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=bill, role=Role.BILLING)
    billing = logged_in(Persona(bill, alice.org, alice.project))
    assert billing.get(f"/o/acme/requests/{trace.request_id}/trace/").status_code == 403
    assert not AuditEvent.objects.filter(action="trace.viewed").exists()
