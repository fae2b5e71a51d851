"""GET /api/v1/usage/ as CONTRACT.md section 4 says: the window, group_by, the shape, the errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rest_framework.test import APIClient

from tenants import actions
from tenants.models import Membership, Role, User
from tests.conftest import PASSWORD, Persona, api_client_for, logged_in
from tests.factories.rollups import add_rollup

pytestmark = pytest.mark.django_db

DEC_1, DEC_2 = date(2026, 12, 1), date(2026, 12, 2)


def _usage(api: Any, query: str) -> Any:
    return api.get(f"/api/v1/usage/?{query}")


def test_it_answers_rows_and_totals_in_the_documented_shape(
    alice: Persona, alice_api: APIClient
) -> None:
    add_rollup(
        alice.org,
        DEC_1,
        latencies=[100, 100, 300],
        input_tokens=30,
        output_tokens=60,
        cached_input_tokens=5,
        reasoning_tokens=7,
        cost_nano=12_500_000,
    )
    add_rollup(alice.org, DEC_2, status=503, latencies=[40], cost_nano=0)  # fmt: skip

    response = _usage(alice_api, "from=2026-12-01&to=2026-12-03&group_by=day")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == "2026-12-01"
    assert body["to"] == "2026-12-03"
    assert body["group_by"] == ["day"]
    first, second = body["rows"]
    assert first == {
        "day": "2026-12-01", "requests": 3, "errors": 0, "input_tokens": 30,
        "output_tokens": 60, "cached_input_tokens": 5, "reasoning_tokens": 7,
        "cost_usd": "0.012500", "latency_ms_p50": first["latency_ms_p50"],
        "latency_ms_p95": first["latency_ms_p95"],
    }  # fmt: skip
    assert 90 <= first["latency_ms_p50"] <= 110
    assert 270 <= first["latency_ms_p95"] <= 330
    assert second["day"] == "2026-12-02"
    assert (second["requests"], second["errors"], second["cost_usd"]) == (1, 1, "0.000000")
    totals = body["totals"]
    assert (totals["requests"], totals["errors"], totals["cost_usd"]) == (4, 1, "0.012500")
    assert totals["input_tokens"] == 30


def test_it_groups_by_day_when_group_by_is_left_out(alice: Persona, alice_api: APIClient) -> None:
    add_rollup(alice.org, DEC_1, latencies=[1])
    body = _usage(alice_api, "from=2026-12-01&to=2026-12-02").json()
    assert body["group_by"] == ["day"]
    assert [row["day"] for row in body["rows"]] == ["2026-12-01"]


def test_id_keys_carry_their_readable_names(alice: Persona, alice_api: APIClient) -> None:
    key = actions.issue_api_key(alice.project, "backend", alice.actor, user=alice.user)
    add_rollup(alice.org, DEC_1, project_id=alice.project.id, key_id=key.id,
               user_id=alice.user.id, model="gpt-4o", provider="openai", task="summarize",
               latencies=[1], cost_nano=3_000)  # fmt: skip

    query = "from=2026-12-01&to=2026-12-02&group_by=project,key,user,model,provider,status,task"
    (row,) = _usage(alice_api, query).json()["rows"]

    assert row["project"] == str(alice.project.id)
    assert row["project_name"] == "Default"
    assert row["key"] == key.id
    assert row["key_name"] == f"backend ({key.prefix}…)"
    assert row["user"] == str(alice.user.id)
    assert row["user_email"] == "alice@acme.test"
    assert (row["model"], row["provider"], row["status"], row["task"]) == (
        "gpt-4o", "openai", 200, "summarize",
    )  # fmt: skip
    assert "day" not in row
    assert row["cost_usd"] == "0.000003"


def test_an_empty_window_answers_no_rows_and_zero_totals(alice_api: APIClient) -> None:
    body = _usage(alice_api, "from=2026-12-01&to=2026-12-08&group_by=model").json()
    assert body["rows"] == []
    assert body["totals"]["requests"] == 0
    assert body["totals"]["cost_usd"] == "0.000000"
    assert body["totals"]["latency_ms_p50"] is None


def test_another_orgs_usage_never_shows(
    alice: Persona, charlie: Persona, charlie_api: APIClient
) -> None:
    add_rollup(alice.org, DEC_1, latencies=[1, 1], cost_nano=9_000_000)
    add_rollup(charlie.org, DEC_1, latencies=[1], cost_nano=1_000)

    body = _usage(charlie_api, "from=2026-12-01&to=2026-12-02&group_by=day,project").json()

    assert body["totals"]["requests"] == 1
    assert body["totals"]["cost_usd"] == "0.000001"


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ("to=2026-12-02", "from", "'from' is required"),
        ("from=2026-12-01", "to", "'to' is required"),
        ("from=&to=2026-12-02", "from", "'from' is required"),
        ("from=yesterday&to=2026-12-02", "from", "ISO date"),
        ("from=2026-12-01&to=2026-02-30", "to", "ISO date"),
        ("from=2026-12-01T00:00:00&to=2026-12-02", "from", "ISO date"),
        ("from=20261201&to=2026-12-02", "from", "ISO date"),
        ("from=2026-12-02&to=2026-12-02", "to", "after 'from'"),
        ("from=2026-12-03&to=2026-12-02", "to", "after 'from'"),
        ("from=2025-01-01&to=2026-02-06", "to", "at most 400 days"),
        ("from=2026-12-01&to=2026-12-02&group_by=", "group_by", "one or more of"),
        ("from=2026-12-01&to=2026-12-02&group_by=week", "group_by", "Unknown group_by 'week'"),
        ("from=2026-12-01&to=2026-12-02&group_by=day,day", "group_by", "'day' more than once"),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(
    alice_api: APIClient, query: str, param: str, message: str
) -> None:
    response = _usage(alice_api, query)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert message in error["message"]


def test_a_window_of_exactly_400_days_is_answered(alice_api: APIClient) -> None:
    assert _usage(alice_api, "from=2025-01-01&to=2026-02-05").status_code == 200


def test_members_read_usage_and_the_billing_role_may_not(alice: Persona, bob: Persona) -> None:
    add_rollup(alice.org, DEC_1, latencies=[1])
    member = logged_in(bob)
    assert member.get("/api/v1/usage/?from=2026-12-01&to=2026-12-02").status_code == 200

    billing = User.objects.create_user(email="bill@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=billing, role=Role.BILLING)
    client = logged_in(Persona(user=billing, org=alice.org, project=alice.project))
    response = client.get("/api/v1/usage/?from=2026-12-01&to=2026-12-02")
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"


def test_it_needs_credentials() -> None:
    response = APIClient().get("/api/v1/usage/?from=2026-12-01&to=2026-12-02")
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_the_schema_documents_the_parameters_and_the_row_shape(alice: Persona) -> None:
    schema = api_client_for(alice).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/usage/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["from"]["required"] and parameters["to"]["required"]
    assert parameters["from"]["schema"]["format"] == "date"
    assert (
        "day|model|provider|project|key|user|status|task"
        in (parameters["group_by"]["schema"]["pattern"])
    )
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    report = schema["components"]["schemas"]["UsageReport"]
    assert set(report["required"]) == {"from", "to", "group_by", "rows", "totals"}
    row = schema["components"]["schemas"]["UsageRow"]
    figures = {"requests", "errors", "input_tokens", "output_tokens", "cached_input_tokens",
               "reasoning_tokens", "cost_usd", "latency_ms_p50", "latency_ms_p95"}  # fmt: skip
    assert figures == set(row["required"])
    assert {"day", "model", "project", "project_name", "key", "key_name"} <= set(row["properties"])
    assert row["properties"]["project"]["format"] == "uuid"
