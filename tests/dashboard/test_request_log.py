"""The request log pages: filters, columns, cursor pages, exports and a request's detail."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from tenants import actions
from tests.conftest import Persona, logged_in
from tests.dashboard.support import text
from tests.factories.request_log import attempt, logged_request, logged_requests

LOG = "/o/acme/requests/"


def test_the_log_shows_cost_key_project_and_error_with_provider_names(alice: Persona) -> None:
    key = actions.issue_api_key(alice.project, "web app", alice.actor)
    logged_request(
        alice.org,
        project_id=alice.project.id,
        key_id=key.id,
        provider="openai_compatible",
        model_dispatched="llama-3",
        status=502,
        error_type="upstream_error",
        error_code="all_deployments_failed",
        error_provider="openai_compatible",
        cost_usd=Decimal("0.004200"),
        attempts=[attempt("openai_compatible", "llama-3", "http_503")],
    )
    html = text(logged_in(alice).get(LOG))
    assert "$0.004200" in html
    assert "web app" in html and key.prefix in html
    assert alice.project.name in html
    assert "all_deployments_failed" in html
    # Providers by the names people know, never the catalog's ids.
    assert "OpenAI-compatible" in html
    assert "openai_compatible" not in html


def test_filters_narrow_the_log_and_the_exports_keep_them(alice: Persona) -> None:
    other = actions.create_project(alice.org, "Batch jobs", alice.actor)
    mine = logged_request(
        alice.org,
        project_id=alice.project.id,
        status=429,
        error_type="rate_limit_exceeded",
        error_code="rate_limit_exceeded",
    )
    theirs = logged_request(alice.org, project_id=other.id)
    old = logged_request(alice.org, project_id=alice.project.id, status=429,
                         error_type="rate_limit_exceeded",
                         created_at=timezone.now() - timedelta(days=3))  # fmt: skip
    mine.created_at = timezone.now() - timedelta(minutes=5)
    mine.save(update_fields=["created_at"])
    client = logged_in(alice)
    page = client.get(LOG, {"project_id": str(alice.project.id), "status": "error"})
    html = text(page)
    assert mine.request_id in html and old.request_id in html
    assert theirs.request_id not in html
    windowed = text(client.get(LOG, {"window": "24h", "error_type": "rate_limit_exceeded"}))
    assert mine.request_id in windowed and old.request_id not in windowed
    # Export links carry the same filters.
    links = re.findall(r'href="(/o/acme/requests/export/\?[^"]+)"', windowed)
    assert len(links) == 2
    csv_link = next(link for link in links if "format=csv" in link).replace("&amp;", "&")
    assert "window=24h" in csv_link and "error_type=rate_limit_exceeded" in csv_link
    export = client.get(csv_link)
    assert isinstance(export, StreamingHttpResponse)
    assert export["Content-Disposition"].startswith("attachment;")
    [header, *rows] = list(csv.reader(io.StringIO(export.getvalue().decode())))
    assert [row[header.index("request_id")] for row in rows] == [mine.request_id]


def test_a_filter_that_is_not_the_orgs_is_refused_on_the_page(
    alice: Persona, charlie: Persona
) -> None:
    page = logged_in(alice).get(LOG, {"project_id": str(charlie.project.id)})
    assert page.status_code == 400
    assert "Select a valid choice" in text(page)


def test_pages_go_older_by_cursor_and_back_to_the_newest(alice: Persona) -> None:
    rows = logged_requests(alice.org, 60)
    client = logged_in(alice)
    first = text(client.get(LOG, {"status": "2xx"}))
    assert rows[-1].request_id in first and rows[9].request_id not in first
    [older] = re.findall(r'href="\?([^"]*cursor=[^"]+)"', first)
    older = older.replace("&amp;", "&")
    assert "status=2xx" in older
    second = text(client.get(f"{LOG}?{older}"))
    assert rows[9].request_id in second and rows[-1].request_id not in second
    assert "Newest" in second


def test_the_detail_shows_the_attempt_chain_redactions_and_metadata(alice: Persona) -> None:
    key = actions.issue_api_key(alice.project, "web app", alice.actor)
    row = logged_request(
        alice.org,
        project_id=alice.project.id,
        key_id=key.id,
        provider="openai_compatible",
        upstream_host="llm.internal:8443",
        routing_version=42,
        task="code",
        platform_fee_usd=Decimal("0.000010"),
        redactions=[
            {"entity": "EMAIL", "action": "mask", "count": 2, "detector": "regex",
             "where": "prompt"},
            {"entity": "PERSON", "action": "pseudonymize", "count": 1, "detector": "ner",
             "where": "answer"},
        ],
        attempts=[
            attempt("anthropic", "claude-3-5-haiku", "upstream_timeout", 2000,
                    "api.anthropic.com", "half_open"),
            attempt("openai_compatible", "llama-3", "ok", 300, "llm.internal:8443", "closed"),
        ],
    )  # fmt: skip
    html = text(logged_in(alice).get(f"{LOG}{row.request_id}/"))
    for shown in (
        "llm.internal:8443", "api.anthropic.com", "probing", "healthy", "upstream_timeout",
        "2000 ms", "300 ms", "Anthropic", "OpenAI-compatible", '<span class="mono">42</span>',
        "task code", "$0.000010", "EMAIL", "PERSON", "pseudonymize", "in the answer", "web app",
        key.prefix, alice.project.name,
    ):  # fmt: skip
        assert shown in html, shown
    assert "openai_compatible" not in html


def test_outsiders_get_404_for_the_log_its_export_and_a_row(
    alice: Persona, charlie: Persona
) -> None:
    row = logged_request(alice.org)
    client = logged_in(charlie)
    for path in (LOG, f"{LOG}export/?format=csv", f"{LOG}{row.request_id}/"):
        assert client.get(path).status_code == 404, path
