"""The filtered request log streams out as CSV or JSON Lines, in constant memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from observability.request_export import COLUMNS
from tenants import actions
from tests.conftest import Persona, logged_in
from tests.factories.request_log import FIRST, attempt, logged_request, logged_requests


def _body(response: object) -> str:
    assert isinstance(response, StreamingHttpResponse), "an export must stream"
    return response.getvalue().decode()


def test_csv_has_a_header_row_money_as_decimal_strings_and_only_the_filtered_rows(
    alice: Persona, alice_api: APIClient
) -> None:
    key = actions.issue_api_key(alice.project, "web app", alice.actor)
    wanted = logged_request(
        alice.org,
        project_id=alice.project.id,
        key_id=key.id,
        status=504,
        error_type="upstream_error",
        error_code="upstream_timeout",
        cost_usd=Decimal("0.000100"),
        platform_fee_usd=Decimal("0.000010"),
        attempts=[attempt(outcome="upstream_timeout", health="open")],
    )
    logged_request(alice.org, created_at=FIRST + timedelta(minutes=1))  # a 200: filtered out
    response = alice_api.get("/api/v1/requests/", {"format": "csv", "status": "error"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.csv"')
    header, *rows = list(csv.reader(io.StringIO(_body(response))))
    assert header == list(COLUMNS)
    [row] = [dict(zip(header, r, strict=True)) for r in rows]
    assert row["request_id"] == wanted.request_id
    assert (row["cost_usd"], row["platform_fee_usd"]) == ("0.000100", "0.000010")
    assert (row["project_name"], row["key_name"], row["key_prefix"]) == (
        alice.project.name,
        "web app",
        key.prefix,
    )
    assert (row["status"], row["error_code"], row["stream"]) == ("504", "upstream_timeout", "false")
    assert json.loads(row["attempts"])[0]["health"] == "open"


def test_accept_text_csv_exports_too(alice: Persona, alice_api: APIClient) -> None:
    logged_request(alice.org)
    response = alice_api.get("/api/v1/requests/", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    assert len(_body(response).splitlines()) == 2


def test_a_client_that_takes_json_gets_the_page_even_if_it_takes_csv_too(
    alice: Persona, alice_api: APIClient
) -> None:
    logged_request(alice.org)
    response = alice_api.get("/api/v1/requests/", HTTP_ACCEPT="application/json, text/csv")
    assert len(response.json()["data"]) == 1


def test_jsonl_has_one_object_per_line_with_money_as_strings(
    alice: Persona, alice_api: APIClient
) -> None:
    rows = logged_requests(alice.org, 3, cost_usd=Decimal("1.500000"))
    response = alice_api.get("/api/v1/requests/", {"format": "jsonl"})
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in _body(response).splitlines()]
    assert [line["request_id"] for line in lines] == [r.request_id for r in reversed(rows)]
    assert lines[0]["cost_usd"] == "1.500000"
    assert lines[0]["attempts"][0]["endpoint"] == "api.openai.com"
    assert set(lines[0]) == set(COLUMNS)


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_cells_a_spreadsheet_would_run_are_defused(
    formula: str, alice: Persona, alice_api: APIClient
) -> None:
    logged_request(alice.org, model_requested=formula)
    response = alice_api.get("/api/v1/requests/", {"format": "csv"})
    [_header, row] = list(csv.reader(io.StringIO(_body(response))))
    cell = row[COLUMNS.index("model_requested")]
    assert cell == "'" + formula


def test_an_export_holds_only_the_callers_org(
    alice: Persona, charlie: Persona, charlie_api: APIClient
) -> None:
    logged_requests(alice.org, 3)
    body = _body(charlie_api.get("/api/v1/requests/", {"format": "jsonl"}))
    assert body == ""
    assert logged_in(charlie).get("/o/acme/requests/export/?format=csv").status_code == 404


def _peak_while_reading(api: APIClient, query: dict[str, str]) -> tuple[int, int]:
    """Rows read and the peak of Python memory allocated from the request to the last byte."""
    tracemalloc.start()
    try:
        response = api.get("/api/v1/requests/", query)
        assert isinstance(response, StreamingHttpResponse)
        lines = _count_lines(response.streaming_content)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


def _count_lines(parts: Iterable[object]) -> int:
    count = 0
    for part in parts:  # dropped as soon as counted, as a client writing to disk would
        count += bytes(part).count(b"\n") if isinstance(part, bytes | memoryview) else 0
    return count


def _after(seconds: int) -> str:
    return (FIRST + timedelta(seconds=seconds)).isoformat()


@pytest.mark.timeout(600)  # 6,000 rows under tracemalloc, on a machine other lanes load too
def test_a_large_export_streams_in_flat_memory(alice: Persona, alice_api: APIClient) -> None:
    # 6,000 rows a second apart; the small export reads the first 1,500 of them.
    logged_requests(alice.org, 6_000, start=FIRST)
    # Import and warm up everything the first request loads, which is not the export's.
    _peak_while_reading(alice_api, {"format": "jsonl", "to": _after(1)})
    small_rows, small_peak = _peak_while_reading(
        alice_api, {"format": "jsonl", "to": _after(1_500)}
    )
    large_rows, large_peak = _peak_while_reading(alice_api, {"format": "jsonl"})
    assert (small_rows, large_rows) == (1_500, 6_000)
    # Four times the rows, about the same memory: one chunk of rows at a time, never all
    # (reading the result whole measured 5.4 MB for 2,000 rows and 32.5 MB for 12,000;
    # streamed, 2.6 MB for both).
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
