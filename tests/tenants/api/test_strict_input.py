"""Query parameters and bodies are read strictly: a bad value is a 400 naming it, never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import Persona
from tests.tenants.api.support import json_error

BAD_QUERIES = [
    ("limit", "²"),  # str.isdigit() says yes, int() says no: this was a 500
    ("limit", "٣"),  # Arabic-Indic three: int() reads 3
    ("limit", "\uff13"),  # fullwidth three
    ("limit", "-1"),
    ("limit", "0"),
    ("limit", "501"),
    ("limit", "1e3"),
    ("limit", "1.0"),
    ("limit", " 5"),
    ("limit", "9" * 40),
    ("limit", ""),
    ("limit", "5\x00"),
    ("cursor", "abc"),
    ("cursor", "0"),
    ("cursor", "²"),
    ("cursor", "9223372036854775808"),
    ("cursor", "9" * 400),
    ("status", "٢٠٠"),
    ("status", "99"),
    ("status", "true"),
    ("from", "yesterday"),
    ("from", "2026-13-01"),
    ("from", "\uff12\uff10\uff12\uff16-01-01"),  # fullwidth digits
    ("from", "2026-01-01\x00"),
    ("to", "2026-02-30T00:00:00Z"),
    ("to", ""),
    ("model", "gpt\x00"),
    ("model", ""),
]


@pytest.mark.parametrize(("name", "value"), BAD_QUERIES)
def test_it_refuses_a_bad_query_parameter_with_a_400_naming_it(
    name: str, value: str, alice_api: APIClient
) -> None:
    response = alice_api.get("/api/v1/requests/", {name: value})
    error = json_error(response, 400)
    assert error["param"] == name
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "1"},
        {"limit": "500", "cursor": "9223372036854775807", "status": "200"},
        {"from": "2026-01-01", "to": "2026-01-02T00:00:00Z"},
        # Before the first or after the last instant Python holds, once in UTC.
        {"from": "0001-01-01T00:00:00+05:00", "to": "9999-12-31T23:59:59-05:00"},
        {"model": "openai/gpt-4o"},
    ],
)
def test_it_accepts_good_query_parameters(query: dict[str, str], alice_api: APIClient) -> None:
    response = alice_api.get("/api/v1/requests/", query)
    assert response.status_code == 200, response.content
    assert response.json() == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/api/v1/teams/", {"name": 0}, "name"),
        ("/api/v1/teams/", {"name": "\x07bell"}, "name"),
        ("/api/v1/projects/", {"name": "p", "team": False}, "team"),
        ("/api/v1/projects/", {"name": "p", "rpm_limit": "5"}, "rpm_limit"),
        ("/api/v1/projects/", {"name": "p", "rpm_limit": True}, "rpm_limit"),
        ("/api/v1/keys/", {"project_id": 0, "name": "k"}, "project_id"),
        (
            "/api/v1/keys/",
            {"project_id": "{00000000-0000-0000-0000-000000000000}", "name": "k"},
            "project_id",
        ),
        (
            "/api/v1/budgets/",
            {"scope": "key", "scope_id": 1, "limit_usd": "1", "period": "day"},
            "scope_id",
        ),
        ("/api/v1/provider-keys/", {"provider": "openai", "api_key": 12345678}, "api_key"),
    ],
)
def test_it_refuses_a_value_of_the_wrong_json_type_instead_of_coercing_it(
    path: str, body: dict[str, object], param: str, alice_api: APIClient
) -> None:
    response = alice_api.post(path, body, format="json")
    assert json_error(response, 400)["param"] == param


def test_it_refuses_a_number_for_a_boolean(alice_api: APIClient) -> None:
    response = alice_api.put(
        "/api/v1/pii-policy/", {"enabled": False, "restore_in_response": 0}, format="json"
    )
    assert json_error(response, 400)["param"] == "restore_in_response"
    assert alice_api.get("/api/v1/pii-policy/").json()["restore_in_response"] is False


def test_a_key_for_a_user_of_another_org_is_a_404_like_its_project(
    alice: Persona, charlie: Persona, alice_api: APIClient
) -> None:
    for body in (
        {"project_id": str(charlie.project.id), "name": "k"},
        {"project_id": str(alice.project.id), "name": "k", "user_id": str(charlie.user.id)},
    ):
        response = alice_api.post("/api/v1/keys/", body, format="json")
        json_error(response, 404)
