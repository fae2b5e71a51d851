"""The PII policy pages: the org's and a project's; admins save, members read, outsiders get 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gateway.pii_policy import actions
from gateway.pii_policy.models import PiiPolicy
from gateway.pii_policy.specs import KNOWN_TYPES, PatternSpec, PolicySpec
from tenants.models import AuditEvent
from tests.conftest import Persona, logged_in
from tests.dashboard.support import submit, text

ORG_PAGE = "/o/acme/pii-policy/"


def _project_page(persona: Persona) -> str:
    return f"/o/acme/projects/{persona.project.id}/pii-policy/"


def _form(
    rows: list[dict[str, str]] | None = None, initial: int = 0, **fields: str
) -> dict[str, str]:
    """What the browser sends: the policy's fields and the pattern rows of the formset."""
    rows = rows or []
    data = {
        "p-TOTAL_FORMS": str(len(rows)),
        "p-INITIAL_FORMS": str(initial),
        "p-MIN_NUM_FORMS": "0",
        "p-MAX_NUM_FORMS": "50",
        **fields,
    }
    for index, row in enumerate(rows):
        data.update({f"p-{index}-{name}": value for name, value in row.items()})
    return data


def _selected(page_text: str, name: str) -> str | None:
    """The value chosen in the <select name=...> of a page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page_text, re.S)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return chosen.group(1) if chosen else None


def test_the_nav_links_the_pii_policy_page(alice: Persona) -> None:
    page = logged_in(alice).get("/o/acme/")
    assert ORG_PAGE in text(page)


def test_alice_sees_a_select_for_every_entity_type(alice: Persona) -> None:
    page = logged_in(alice).get(ORG_PAGE)
    assert page.status_code == 200
    shown = text(page)
    for entity in KNOWN_TYPES:
        assert f'name="entity_{entity}"' in shown
        assert _selected(shown, f"entity_{entity}") == ""  # not scanned
    assert "Save policy" in shown


def test_alice_saves_the_org_policy_with_a_pattern(alice: Persona) -> None:
    browser = logged_in(alice)
    data = _form(
        [{"name": "EMPLOYEE_ID", "regex": r"EMP-[0-9]{6}", "action": "pseudonymize"}],
        enabled="on",
        restore_in_response="on",
        entity_EMAIL="mask",
        entity_PERSON="pseudonymize",
        entity_CREDIT_CARD="block",
    )
    response = submit(browser, ORG_PAGE, data)
    assert response.status_code == 302, text(response)
    assert response["Location"] == ORG_PAGE
    policy = PiiPolicy.objects.get(org=alice.org, project=None)
    assert PolicySpec.of(policy) == PolicySpec(
        enabled=True,
        entities={"CREDIT_CARD": "block", "EMAIL": "mask", "PERSON": "pseudonymize"},
        custom_patterns=[PatternSpec("EMPLOYEE_ID", "EMP-[0-9]{6}", "pseudonymize")],
        restore_in_response=True,
    )
    assert AuditEvent.objects.filter(org=alice.org, action="pii_policy.created").exists()
    # The page shows what was saved.
    shown = text(browser.get(ORG_PAGE))
    assert _selected(shown, "entity_EMAIL") == "mask"
    assert _selected(shown, "entity_CREDIT_CARD") == "block"
    assert _selected(shown, "entity_PHONE") == ""
    assert 'value="EMPLOYEE_ID"' in shown
    assert "was saved" in shown


def test_blank_pattern_rows_are_skipped_and_removed_rows_dropped(alice: Persona) -> None:
    spec = PolicySpec(
        enabled=True,
        entities={"EMAIL": "mask"},
        custom_patterns=[
            PatternSpec("BADGE", "B-[0-9]+", "mask"),
            PatternSpec("KEEP", "K-1", "block"),
        ],
    )
    actions.set_org_policy(alice.org, spec, alice.actor)
    rows = [
        {"name": "BADGE", "regex": "B-[0-9]+", "action": "mask", "DELETE": "on"},
        {"name": "KEEP", "regex": "K-1", "action": "block"},
        {"name": "", "regex": "", "action": "mask"},
    ]
    data = _form(rows, initial=2, enabled="on", entity_EMAIL="mask")
    response = submit(logged_in(alice), ORG_PAGE, data)
    assert response.status_code == 302, text(response)
    policy = PiiPolicy.objects.get(org=alice.org, project=None)
    assert policy.custom_patterns == [{"name": "KEEP", "regex": "K-1", "action": "block"}]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": "EMP", "regex": r"(a)\1", "action": "mask"}, "RE2 cannot run this regex"),
        ({"name": "EMAIL", "regex": "E-1", "action": "mask"}, "built-in entity type"),
        ({"name": "emp id", "regex": "E-1", "action": "mask"}, "UPPER_SNAKE_CASE"),
    ],
)
def test_a_bad_pattern_is_shown_beside_its_field_and_nothing_is_saved(
    alice: Persona, row: dict[str, str], message: str
) -> None:
    response = submit(logged_in(alice), ORG_PAGE, _form([row], enabled="on"))
    assert response.status_code == 400
    assert message in text(response)
    assert 'class="field-error"' in text(response)
    assert not PiiPolicy.objects.exists()


def test_an_unknown_action_is_refused(alice: Persona) -> None:
    response = submit(logged_in(alice), ORG_PAGE, _form(enabled="on", entity_EMAIL="shred"))
    assert response.status_code == 400
    assert not PiiPolicy.objects.exists()


def test_bob_reads_the_policy_but_cannot_save_it(alice: Persona, bob: Persona) -> None:
    actions.set_org_policy(
        alice.org, PolicySpec(enabled=True, entities={"EMAIL": "mask"}), alice.actor
    )
    browser = logged_in(bob)
    page = browser.get(ORG_PAGE)
    assert page.status_code == 200
    shown = text(page)
    assert _selected(shown, "entity_EMAIL") == "mask"
    assert "Save policy" not in shown
    assert re.search(r'<select name="entity_EMAIL"[^>]*disabled', shown)
    refused = browser.post(ORG_PAGE, _form(entity_EMAIL="allow"))
    assert refused.status_code == 403
    assert PiiPolicy.objects.get(org=alice.org).entities == {"EMAIL": "mask"}


def test_charlie_gets_404_for_acmes_pages(alice: Persona, charlie: Persona) -> None:
    browser = logged_in(charlie)
    assert browser.get(ORG_PAGE).status_code == 404
    assert browser.get(_project_page(alice)).status_code == 404
    assert browser.post(ORG_PAGE, _form(enabled="on")).status_code == 404
    # Charlie's own org page does not reach Acme's project either.
    theirs = f"/o/globex/projects/{alice.project.id}/pii-policy/"
    assert browser.get(theirs).status_code == 404
    assert not PiiPolicy.objects.exists()


def test_alice_gives_a_project_its_own_policy_and_drops_it(alice: Persona) -> None:
    actions.set_org_policy(
        alice.org, PolicySpec(enabled=True, entities={"EMAIL": "mask"}), alice.actor
    )
    browser: Client = logged_in(alice)
    project_page = text(browser.get(f"/o/acme/projects/{alice.project.id}/"))
    assert _project_page(alice) in project_page

    page = text(browser.get(_project_page(alice)))
    assert "follows the" in page
    assert _selected(page, "entity_EMAIL") == "mask"  # starts from the org's
    response = submit(browser, _project_page(alice), _form(enabled="on", entity_EMAIL="block"))
    assert response.status_code == 302, text(response)
    own = PiiPolicy.objects.get(project=alice.project)
    assert own.entities == {"EMAIL": "block"}
    assert PiiPolicy.objects.get(org=alice.org, project=None).entities == {"EMAIL": "mask"}

    page = text(browser.get(_project_page(alice)))
    assert "policy of its own" in page
    drop = f"/o/acme/projects/{alice.project.id}/pii-policy/delete/"
    assert drop in page
    response = submit(browser, _project_page(alice), {}, action=drop)
    assert response.status_code == 302
    assert not PiiPolicy.objects.filter(project=alice.project).exists()
    assert AuditEvent.objects.filter(org=alice.org, action="pii_policy.deleted").exists()


def test_bob_cannot_drop_a_projects_policy(alice: Persona, bob: Persona) -> None:
    actions.set_project_policy(alice.project, PolicySpec(enabled=True), alice.actor)
    drop = f"/o/acme/projects/{alice.project.id}/pii-policy/delete/"
    assert logged_in(bob).post(drop).status_code == 403
    assert PiiPolicy.objects.filter(project=alice.project).exists()


def _state(page_text: str) -> str:
    """The policy's state line: what the proxy does now."""
    found = re.search(r'<p class="policy-state" role="status">(.*?)</p>', page_text, re.S)
    assert found, "no state line"
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_the_page_says_on_once_scanning_is_turned_on(alice: Persona) -> None:
    browser = logged_in(alice)
    assert _state(text(browser.get(ORG_PAGE))).startswith("Off")
    submit(browser, ORG_PAGE, _form(enabled="on", entity_EMAIL="mask", entity_PHONE="block"))
    shown = text(browser.get(ORG_PAGE))
    assert _state(shown).startswith("On The proxy scans Acme's prompts and answers for 2 types")
    assert "Off" not in shown  # the help text once began "Off:", read as the state


def test_each_entity_types_actions_show_its_own_token(alice: Persona) -> None:
    shown = text(logged_in(alice).get(ORG_PAGE))
    for entity in ("EMAIL", "PHONE", "PERSON"):
        select = re.search(rf'<select name="entity_{entity}"[^>]*>(.*?)</select>', shown, re.S)
        assert select
        assert f"Mask ([{entity}])" in select.group(1)
        assert f"Pseudonymize (&lt;{entity}_3f2a9c&gt;)" in select.group(1)
    assert "Mask ([EMAIL])" not in shown.split('name="entity_PHONE"')[1].split("</select>")[0]
