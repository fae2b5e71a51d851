"""The PII policy API: the org's and a project's, round trips, bad input, roles, other orgs."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from rest_framework.test import APIClient

from gateway.pii_policy.models import PiiPolicy, PiiSecret
from tenants.models import AuditEvent
from tests.conftest import Persona, logged_in
from tests.gateway.pii_policy.conftest import ORG_URL, a_policy, error_of, project_url, put

# Every type the API takes: CONTRACT.md section 4's and the other validators'.
ENTITY_TYPES = [
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "US_SSN",
    "US_ITIN",
    "IBAN",
    "IP_ADDRESS",
    "CRYPTO",
    "EU_NATIONAL_ID",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
]
DEFAULT = {"enabled": False, "entities": {}, "custom_patterns": [], "restore_in_response": False}


def test_an_org_without_a_policy_reads_as_the_disabled_default(alice_api: APIClient) -> None:
    response = alice_api.get(ORG_URL)
    assert response.status_code == 200
    assert response.json() == DEFAULT
    assert not PiiPolicy.objects.exists()


def test_an_admin_sets_the_org_policy_and_reads_it_back(
    alice: Persona, alice_api: APIClient
) -> None:
    response = put(alice_api, a_policy())
    assert response.status_code == 200, response.content
    assert response.json() == a_policy()
    assert alice_api.get(ORG_URL).json() == a_policy()
    event = AuditEvent.objects.get(org=alice.org, action="pii_policy.created")
    assert event.target_label == (
        "on, 4 entity types, 1 custom pattern, restored in answers (organization)"
    )


def test_a_put_replaces_the_whole_policy(alice: Persona, alice_api: APIClient) -> None:
    put(alice_api, a_policy())
    response = put(alice_api, {"enabled": True, "entities": {"PHONE": "pseudonymize"}})
    assert response.status_code == 200, response.content
    assert response.json() == {**DEFAULT, "enabled": True, "entities": {"PHONE": "pseudonymize"}}
    assert PiiPolicy.objects.filter(org=alice.org).count() == 1
    assert AuditEvent.objects.filter(org=alice.org, action="pii_policy.updated").count() == 1


def test_saving_the_same_policy_again_changes_nothing(alice: Persona, alice_api: APIClient) -> None:
    put(alice_api, a_policy())
    put(alice_api, a_policy())
    assert AuditEvent.objects.filter(org=alice.org, action__startswith="pii_policy.").count() == 1


@pytest.mark.parametrize("entity", ENTITY_TYPES)
@pytest.mark.parametrize("action", ["mask", "pseudonymize", "block", "allow"])
def test_every_known_type_takes_every_action(
    alice_api: APIClient, entity: str, action: str
) -> None:
    response = put(alice_api, a_policy(entities={entity: action}))
    assert response.status_code == 200, response.content
    assert response.json()["entities"] == {entity: action}


def _pattern(**changes: Any) -> dict[str, Any]:
    return {"name": "EMPLOYEE_ID", "regex": r"EMP-[0-9]{6}", "action": "mask", **changes}


BAD_POLICIES: list[tuple[str, dict[str, Any], str]] = [
    ("an unknown type", {"entities": {"SOCIAL_NUMBER": "mask"}}, "entities.SOCIAL_NUMBER"),
    ("a type in lower case", {"entities": {"email": "mask"}}, "entities.email"),
    ("an unknown action", {"entities": {"EMAIL": "redact"}}, "entities.EMAIL"),
    ("entities not an object", {"entities": ["EMAIL"]}, "entities"),
    ("enabled not a boolean", {"enabled": "maybe"}, "enabled"),
    ("an unknown field", {"mode": "strict"}, "mode"),
    (
        "an unknown pattern action",
        {"custom_patterns": [_pattern(action="drop")]},
        "custom_patterns.0.action",
    ),
    (
        "a lower-case name",
        {"custom_patterns": [_pattern(name="employee_id")]},
        "custom_patterns.0.name",
    ),
    (
        "a name with a space",
        {"custom_patterns": [_pattern(name="EMP ID")]},
        "custom_patterns.0.name",
    ),
    (
        "a name starting with _",
        {"custom_patterns": [_pattern(name="_EMP")]},
        "custom_patterns.0.name",
    ),
    (
        "a name starting with a digit",
        {"custom_patterns": [_pattern(name="1EMP")]},
        "custom_patterns.0.name",
    ),
    (
        "a name ending with _",
        {"custom_patterns": [_pattern(name="EMP_")]},
        "custom_patterns.0.name",
    ),
    (
        "a name of 41 characters",
        {"custom_patterns": [_pattern(name="A" * 41)]},
        "custom_patterns.0.name",
    ),
    ("an empty name", {"custom_patterns": [_pattern(name="")]}, "custom_patterns.0.name"),
    (
        "a built-in validator name",
        {"custom_patterns": [_pattern(name="EMAIL")]},
        "custom_patterns.0.name",
    ),
    (
        "a built-in NER name",
        {"custom_patterns": [_pattern(name="PERSON")]},
        "custom_patterns.0.name",
    ),
    (
        "two patterns of one name",
        {"custom_patterns": [_pattern(), _pattern(regex="X-[0-9]+")]},
        "custom_patterns.1.name",
    ),
    (
        "a regex of 1001 characters",
        {"custom_patterns": [_pattern(regex="a" * 1001)]},
        "custom_patterns.0.regex",
    ),
    ("an empty regex", {"custom_patterns": [_pattern(regex="")]}, "custom_patterns.0.regex"),
    ("a backreference", {"custom_patterns": [_pattern(regex=r"(a)\1")]}, "custom_patterns.0.regex"),
    ("a lookahead", {"custom_patterns": [_pattern(regex=r"EMP(?=-)")]}, "custom_patterns.0.regex"),
    (
        "a lookbehind",
        {"custom_patterns": [_pattern(regex=r"(?<=EMP-)[0-9]+")]},
        "custom_patterns.0.regex",
    ),
    (
        "a negative lookahead",
        {"custom_patterns": [_pattern(regex=r"EMP(?!X)")]},
        "custom_patterns.0.regex",
    ),
    (
        "a possessive quantifier",
        {"custom_patterns": [_pattern(regex=r"a++")]},
        "custom_patterns.0.regex",
    ),
    (
        "a syntax error",
        {"custom_patterns": [_pattern(regex=r"EMP-([0-9]")]},
        "custom_patterns.0.regex",
    ),
    (
        "a repetition RE2 refuses",
        {"custom_patterns": [_pattern(regex=r"a{1001}")]},
        "custom_patterns.0.regex",
    ),
    (
        "a regex matching empty text",
        {"custom_patterns": [_pattern(regex=r"[0-9]*")]},
        "custom_patterns.0.regex",
    ),
    (
        "a bad second pattern",
        {"custom_patterns": [_pattern(), _pattern(name="BADGE", regex=r"(x)\1")]},
        "custom_patterns.1.regex",
    ),
    (
        "51 patterns",
        {"custom_patterns": [_pattern(name=f"P{i}") for i in range(51)]},
        "custom_patterns",
    ),
    ("a pattern that is not an object", {"custom_patterns": ["EMP-[0-9]+"]}, "custom_patterns.0"),
    (
        "a pattern with an unknown field",
        {"custom_patterns": [_pattern(flags="i")]},
        "custom_patterns.0.flags",
    ),
]


@pytest.mark.parametrize(
    ("body", "param"),
    [pytest.param(body, param, id=name) for name, body, param in BAD_POLICIES],
)
@pytest.mark.parametrize("where", ["org", "project"])
def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_written(
    alice: Persona, alice_api: APIClient, body: dict[str, Any], param: str, where: str
) -> None:
    url = ORG_URL if where == "org" else project_url(alice.project.id)
    response = put(alice_api, {"enabled": True, **body}, url)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param, error
    assert error["message"]
    assert not PiiPolicy.objects.exists()
    assert not PiiSecret.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="pii_policy.").exists()


def test_the_error_says_why_re2_refused_the_regex(alice_api: APIClient) -> None:
    response = put(alice_api, a_policy(custom_patterns=[_pattern(regex=r"(a)\1")]))
    message = error_of(response)["message"]
    assert "RE2" in message and "backreferences" in message


def test_fifty_patterns_and_a_regex_of_1000_characters_are_accepted(alice_api: APIClient) -> None:
    patterns = [_pattern(name=f"PATTERN_{i}", regex=f"P{i}-[0-9]+") for i in range(49)]
    patterns.append(_pattern(name="A" * 40, regex="b" * 1000))
    response = put(alice_api, a_policy(custom_patterns=patterns))
    assert response.status_code == 200, response.content
    assert response.json()["custom_patterns"] == patterns


def test_re2_syntax_beyond_pythons_is_accepted(alice_api: APIClient) -> None:
    regexes = [r"\p{Lu}{2}-[[:digit:]]{4}", r"(?i)badge\s*#?\d{5}", r"(?P<id>K-\d+)"]
    patterns = [_pattern(name=f"P_{i}", regex=regex) for i, regex in enumerate(regexes)]
    response = put(alice_api, a_policy(custom_patterns=patterns))
    assert response.status_code == 200, response.content


def test_a_member_reads_the_policy_but_cannot_change_it(
    alice: Persona, bob: Persona, alice_api: APIClient
) -> None:
    put(alice_api, a_policy())
    browser = logged_in(bob)
    assert browser.get(ORG_URL).json() == a_policy()
    body = orjson.dumps(a_policy(enabled=False))
    refused = browser.put(ORG_URL, body, content_type="application/json")
    assert refused.status_code == 403
    assert error_of(refused)["type"] == "permission_error"
    project = browser.put(project_url(alice.project.id), body, content_type="application/json")
    assert project.status_code == 403
    put(alice_api, a_policy(), project_url(alice.project.id))
    assert browser.delete(project_url(alice.project.id)).status_code == 403
    assert PiiPolicy.objects.get(org=alice.org, project=None).enabled is True
    assert PiiPolicy.objects.filter(project=alice.project).exists()


def test_an_admin_in_the_browser_may_change_it(alice: Persona) -> None:
    browser = logged_in(alice)
    body = orjson.dumps(a_policy())
    response = browser.put(ORG_URL, body, content_type="application/json")
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(org=alice.org, action="pii_policy.created")
    assert event.actor_label == "alice@acme.test"


def test_without_credentials_the_policy_is_not_shown() -> None:
    assert APIClient().get(ORG_URL).status_code in (401, 403)


def test_each_org_has_its_own_policy(
    alice_api: APIClient, charlie_api: APIClient, charlie: Persona
) -> None:
    put(alice_api, a_policy())
    assert charlie_api.get(ORG_URL).json() == DEFAULT
    put(charlie_api, a_policy(entities={"PHONE": "mask"}))
    assert alice_api.get(ORG_URL).json() == a_policy()


def test_a_project_gets_its_own_policy_and_can_drop_it(
    alice: Persona, alice_api: APIClient
) -> None:
    url = project_url(alice.project.id)
    put(alice_api, a_policy())
    missing = alice_api.get(url)
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "no_override"

    own = a_policy(entities={"EMAIL": "block"}, custom_patterns=[], restore_in_response=False)
    created = put(alice_api, own, url)
    assert created.status_code == 201, created.content
    assert created.json() == own
    assert alice_api.get(url).json() == own
    assert alice_api.get(ORG_URL).json() == a_policy()  # the org's is untouched
    replaced = put(alice_api, {**own, "enabled": False}, url)
    assert replaced.status_code == 200
    assert alice_api.get(url).json()["enabled"] is False

    assert alice_api.delete(url).status_code == 204
    assert alice_api.get(url).status_code == 404
    assert alice_api.delete(url).status_code == 204  # already gone: nothing to do
    actions = list(
        AuditEvent.objects.filter(org=alice.org, action__startswith="pii_policy.")
        .order_by("created_at", "id")
        .values_list("action", "target_label")
    )
    assert actions == [
        ("pii_policy.created", "on, 4 entity types, 1 custom pattern, restored in answers"
         " (organization)"),
        ("pii_policy.created", "on, 1 entity type, 0 custom patterns (project Default)"),
        ("pii_policy.updated", "off, 1 entity type, 0 custom patterns (project Default)"),
        ("pii_policy.deleted", "off, 1 entity type, 0 custom patterns (project Default)"),
    ]  # fmt: skip


def test_a_project_policy_needs_no_org_policy(alice: Persona, alice_api: APIClient) -> None:
    response = put(alice_api, a_policy(), project_url(alice.project.id))
    assert response.status_code == 201
    assert alice_api.get(ORG_URL).json() == DEFAULT
    assert PiiSecret.objects.filter(org=alice.org).exists()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_orgs_project_answers_404_and_nothing_changes(
    alice: Persona, alice_api: APIClient, charlie_api: APIClient, method: str
) -> None:
    url = project_url(alice.project.id)
    put(alice_api, a_policy(), url)
    before = PiiPolicy.objects.get(project=alice.project).updated_at
    if method == "put":
        response = put(charlie_api, a_policy(enabled=False), url)
    else:
        response = getattr(charlie_api, method)(url)
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"
    policy = PiiPolicy.objects.get(project=alice.project)
    assert (policy.enabled, policy.updated_at) == (True, before)
    assert not PiiPolicy.objects.exclude(org=alice.org).exists()


@pytest.mark.parametrize("project_id", ["00000000-0000-4000-8000-000000000001", "not-a-uuid"])
def test_a_project_that_does_not_exist_answers_404(alice_api: APIClient, project_id: str) -> None:
    assert put(alice_api, a_policy(), project_url(project_id)).status_code == 404
    assert alice_api.get(project_url(project_id)).status_code == 404
    assert not PiiPolicy.objects.exists()


def test_the_openapi_schema_documents_the_pii_policy_endpoints() -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = orjson.loads(response.content)["paths"]
    assert set(paths["/api/v1/pii-policy/"]) >= {"get", "put"}
    assert set(paths["/api/v1/projects/{project_id}/pii-policy/"]) >= {"get", "put", "delete"}
    text = response.content.decode()
    assert "restore_in_response" in text and "pseudonymize" in text
