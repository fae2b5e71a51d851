"""GET /api/v1/requests/ filters the log, pages it by a keyset cursor, shows who answered."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from observability.models import RequestLog
from tenants import actions
from tests.conftest import Persona
from tests.factories.request_log import FIRST, attempt, logged_request, logged_requests
from tests.tenants.api.support import json_error


def _ids(api: APIClient, query: dict[str, str]) -> list[str]:
    response = api.get("/api/v1/requests/", query)
    assert response.status_code == 200, response.content
    return [row["request_id"] for row in response.json()["data"]]


@pytest.fixture
def acme_log(alice: Persona) -> dict[str, Any]:
    """Acme's log: two projects, two keys, successes and failures of several kinds."""
    other = actions.create_project(alice.org, "Batch jobs", alice.actor)
    web_key = actions.issue_api_key(alice.project, "web app", alice.actor)
    batch_key = actions.issue_api_key(other, "nightly", alice.actor)
    rows = {
        "ok": logged_request(
            alice.org, project_id=alice.project.id, key_id=web_key.id, created_at=FIRST
        ),
        "timeout": logged_request(
            alice.org,
            project_id=alice.project.id,
            key_id=web_key.id,
            created_at=FIRST + timedelta(minutes=1),
            status=504,
            error_type="upstream_error",
            error_code="upstream_timeout",
            error_provider="anthropic",
            model_requested="claude-demo",
            model_dispatched="",
            cost_usd=None,
        ),
        "budget": logged_request(
            alice.org,
            project_id=other.id,
            key_id=batch_key.id,
            created_at=FIRST + timedelta(minutes=2),
            status=402,
            error_type="budget_exceeded",
            error_code="budget_exceeded",
        ),
        "batch": logged_request(
            alice.org,
            project_id=other.id,
            key_id=batch_key.id,
            created_at=FIRST + timedelta(minutes=3),
            model_requested="embed-demo",
            model_dispatched="text-embedding-3-small",
        ),
    }
    return {
        "rows": {name: row.request_id for name, row in rows.items()},
        "project": str(alice.project.id),
        "other_project": str(other.id),
        "web_key": web_key.id,
        "batch_key": batch_key.id,
    }


def test_each_filter_keeps_only_the_rows_it_names(
    acme_log: dict[str, Any], alice_api: APIClient
) -> None:
    rows = acme_log["rows"]
    assert _ids(alice_api, {}) == [rows["batch"], rows["budget"], rows["timeout"], rows["ok"]]
    assert _ids(alice_api, {"project_id": acme_log["other_project"]}) == [
        rows["batch"],
        rows["budget"],
    ]
    assert _ids(alice_api, {"key_id": acme_log["web_key"]}) == [rows["timeout"], rows["ok"]]
    assert _ids(alice_api, {"status": "504"}) == [rows["timeout"]]
    assert _ids(alice_api, {"status": "error"}) == [rows["budget"], rows["timeout"]]
    assert _ids(alice_api, {"status": "4xx"}) == [rows["budget"]]
    assert _ids(alice_api, {"status": "2xx"}) == [rows["batch"], rows["ok"]]
    assert _ids(alice_api, {"error_type": "upstream_error"}) == [rows["timeout"]]
    assert _ids(alice_api, {"error_type": "upstream_timeout"}) == [rows["timeout"]]
    assert _ids(alice_api, {"model": "claude-demo"}) == [rows["timeout"]]
    # The model that answered finds the row as well as the alias asked for.
    assert _ids(alice_api, {"model": "text-embedding-3-small"}) == [rows["batch"]]
    window = {"from": "2026-09-21T12:01:00Z", "to": "2026-09-21T12:03:00Z"}
    assert _ids(alice_api, window) == [rows["budget"], rows["timeout"]]
    both = {"project_id": acme_log["project"], "status": "error", **window}
    assert _ids(alice_api, both) == [rows["timeout"]]


def test_another_orgs_project_or_key_id_finds_nothing(
    acme_log: dict[str, Any], alice_api: APIClient, charlie: Persona, charlie_api: APIClient
) -> None:
    logged_request(charlie.org, project_id=charlie.project.id)
    assert _ids(charlie_api, {"project_id": acme_log["project"]}) == []
    assert _ids(charlie_api, {"key_id": acme_log["web_key"]}) == []
    assert _ids(alice_api, {"project_id": str(charlie.project.id)}) == []
    assert len(_ids(charlie_api, {})) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("project_id", "acme"),
        ("key_id", "12"),
        ("status", "6xx"),
        ("status", "600"),
        ("status", "errors"),
        ("error_type", "x" * 65),
        ("model", "m" * 201),
        ("format", "xml"),
        ("cursor", "c!!!!"),
        ("cursor", "cAAAAAAA"),  # base64 of something that is not a position
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    name: str, value: str, alice: Persona, alice_api: APIClient
) -> None:
    error = json_error(alice_api.get("/api/v1/requests/", {name: value}), 400)
    assert (error["param"], error["type"]) == (name, "invalid_request_error")


def test_a_window_that_ends_before_it_starts_is_a_400(alice: Persona, alice_api: APIClient) -> None:
    query = {"from": "2026-09-22T00:00:00Z", "to": "2026-09-21T00:00:00Z"}
    assert json_error(alice_api.get("/api/v1/requests/", query), 400)["param"] == "to"


def test_pages_follow_created_at_then_id_and_never_repeat_a_row(
    alice: Persona, alice_api: APIClient
) -> None:
    # Five requests in the same microsecond, and an older one inserted after them: the
    # order is by time, ties by id, whatever order the drain wrote them in.
    same = logged_requests(alice.org, 1, start=FIRST + timedelta(hours=1)) + [
        logged_request(alice.org, created_at=FIRST + timedelta(hours=1)) for _ in range(4)
    ]
    older = logged_request(alice.org, created_at=FIRST)
    expected = [r.request_id for r in sorted(same, key=lambda r: -r.id)] + [older.request_id]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = alice_api.get("/api/v1/requests/", query).json()
        seen += [row["request_id"] for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()  # opaque, not an id a client could compute
    assert seen == expected


def test_an_old_integer_cursor_still_pages_on(alice: Persona, alice_api: APIClient) -> None:
    rows = logged_requests(alice.org, 4)
    newest_first = [r.request_id for r in reversed(rows)]
    assert _ids(alice_api, {"cursor": str(rows[2].id)}) == newest_first[2:]
    # A cursor whose row retention already removed reads as it always did: smaller ids.
    gone = rows[3].id
    RequestLog.objects.filter(id=gone).delete()
    assert _ids(alice_api, {"cursor": str(gone)}) == newest_first[1:]


def test_a_row_shows_who_answered_where_and_the_attempt_chain(
    alice: Persona, alice_api: APIClient
) -> None:
    key = actions.issue_api_key(alice.project, "web app", alice.actor)
    logged_request(
        alice.org,
        project_id=alice.project.id,
        key_id=key.id,
        provider="openai_compatible",
        upstream_host="llm.internal:8443",
        routing_version=42,
        task="code",
        platform_fee_usd=Decimal("0.000010"),
        attempts=[
            attempt("anthropic", "claude-3-5-haiku", "upstream_timeout", 2000,
                    "api.anthropic.com", "half_open"),
            attempt("openai_compatible", "llama-3", "ok", 300, "llm.internal:8443", "closed"),
        ],
    )  # fmt: skip
    [row] = alice_api.get("/api/v1/requests/").json()["data"]
    assert row["upstream_host"] == "llm.internal:8443"
    assert (row["routing_version"], row["task"]) == (42, "code")
    assert (row["cost_usd"], row["platform_fee_usd"]) == ("0.000123", "0.000010")
    assert (row["project_name"], row["key_name"], row["key_prefix"]) == (
        alice.project.name,
        "web app",
        key.prefix,
    )
    assert [(a["endpoint"], a["health"], a["outcome"]) for a in row["attempts"]] == [
        ("api.anthropic.com", "half_open", "upstream_timeout"),
        ("llm.internal:8443", "closed", "ok"),
    ]
    assert row["fallbacks"] == ["anthropic/claude-3-5-haiku"]
    assert row["error_provider"] == ""
