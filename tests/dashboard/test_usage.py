"""The Usage page, the overview's month and the spend columns, as a person's browser gets them."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tenants import actions
from tenants.models import Membership, Role, User
from tests.conftest import PASSWORD, Persona, logged_in
from tests.dashboard.support import text
from tests.factories.rollups import add_rollup

pytestmark = pytest.mark.django_db


def today() -> date:
    """UTC today, asked at each use: a run that crosses midnight still agrees with the page."""
    return timezone.now().date()


def chart_data(page: Any) -> dict[str, Any]:
    """The JSON the page embeds for its charts (json_script)."""
    match = re.search(r'<script id="usage-data" type="application/json">(.*?)</script>', text(page))
    assert match, "the page embeds no chart data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_an_org_without_usage_sees_what_to_do(alice: Persona) -> None:
    page = logged_in(alice).get("/o/acme/usage/")

    assert page.status_code == 200
    body = text(page)
    assert "No usage in this window" in body
    assert "Send a request to the proxy with one of your API keys" in body
    assert "/o/acme/keys/new/" in body
    assert "<canvas" not in body


def test_the_page_charts_the_last_30_days_from_the_rollups(alice: Persona) -> None:
    key = actions.issue_api_key(alice.project, "backend", alice.actor)
    add_rollup(
        alice.org,
        today(),
        model="gpt-4o",
        key_id=key.id,
        project_id=alice.project.id,
        latencies=[100] * 4,
        input_tokens=400,
        output_tokens=90,
        cost_nano=2_500_000_000,
    )
    add_rollup(
        alice.org,
        today() - timedelta(days=2),
        model="claude",
        status=500,
        latencies=[900],
        cost_nano=0,
    )
    add_rollup(alice.org, today() - timedelta(days=30), model="old", latencies=[1],
               cost_nano=10**12)  # the 31st day back: outside the window  # fmt: skip

    page = logged_in(alice).get("/o/acme/usage/")

    assert page.status_code == 200
    body = text(page)
    data = chart_data(page)
    assert len(data["days"]) == 30
    assert data["days"][-1] == today().isoformat()
    assert data["requests"][-1] == 4 and data["requests"][-3] == 1
    assert data["errors"][-3] == 1
    assert data["input_tokens"][-1] == 400 and data["output_tokens"][-1] == 90
    assert data["latency_p50"][-1] is not None and data["latency_p50"][0] is None
    assert {s["label"] for s in data["cost_by_model"]} == {"gpt-4o", "claude"}
    gpt = next(s for s in data["cost_by_model"] if s["label"] == "gpt-4o")
    assert gpt["values"][-1] == "2.500000"
    assert '<span class="stat-value" data-total="cost">$2.50</span>' in body
    assert f"backend ({key.prefix}…)" in body  # the top keys table names the key
    assert f'href="/o/acme/projects/{alice.project.id}/"' in body  # and links the project
    # Chart.js from our own static files, never a CDN.
    scripts = re.findall(r'<script src="([^"]+)"', body)
    assert "/static/dashboard/vendor/chart.umd.min.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)


@pytest.mark.parametrize("days", [7, 30, 90])
def test_a_preset_window_ends_today(alice: Persona, days: int) -> None:
    add_rollup(alice.org, today(), latencies=[1])
    data = chart_data(logged_in(alice).get(f"/o/acme/usage/?days={days}"))
    assert len(data["days"]) == days
    assert data["days"][0] == (today() - timedelta(days=days - 1)).isoformat()


def test_a_custom_window_includes_both_of_its_days(alice: Persona) -> None:
    add_rollup(alice.org, today() - timedelta(days=40), latencies=[1, 1], cost_nano=7)
    since, last = today() - timedelta(days=41), today() - timedelta(days=40)
    page = logged_in(alice).get(f"/o/acme/usage/?from={since}&to={last}")
    data = chart_data(page)
    assert data["days"] == [since.isoformat(), last.isoformat()]
    assert data["requests"] == [0, 2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-12-05&to=2026-12-01", "last day comes before its first"),
        ("from=2020-01-01&to=2026-01-01", "at most 400 days"),
        ("from=soon&to=2026-01-01", "Pick both dates"),
        ("to=2026-01-01", "Pick both dates"),
        ("from=9999-12-30&to=9999-12-31", "before 9999-12-31"),
    ],
)
def test_a_window_it_cannot_show_is_explained(alice: Persona, query: str, message: str) -> None:
    page = logged_in(alice).get(f"/o/acme/usage/?{query}")
    assert page.status_code == 400
    assert message in text(page)
    assert "Showing the last 30 days instead" in text(page)


def test_the_sidebar_links_the_usage_page(alice: Persona) -> None:
    body = text(logged_in(alice).get("/o/acme/"))
    assert 'href="/o/acme/usage/"' in body


def test_another_orgs_usage_is_a_404_and_the_billing_role_is_refused(
    alice: Persona, charlie: Persona
) -> None:
    add_rollup(alice.org, today(), latencies=[1], cost_nano=10**9)
    assert logged_in(charlie).get("/o/acme/usage/").status_code == 404
    charlie_page = text(logged_in(charlie).get("/o/globex/usage/"))
    assert "No usage in this window" in charlie_page

    billing = User.objects.create_user(email="bill@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=billing, role=Role.BILLING)
    client = Client()
    client.force_login(billing)
    assert client.get("/o/acme/usage/").status_code == 403


def test_the_overview_shows_this_months_spend_and_traffic(alice: Persona) -> None:
    add_rollup(
        alice.org,
        today(),
        latencies=[10] * 3,
        status=200,
        input_tokens=1200,
        output_tokens=34,
        cost_nano=1_250_000_000,
    )
    add_rollup(alice.org, today(), latencies=[10], status=429, cost_nano=0)
    if today().day > 1:  # last month's last day is not this month's
        add_rollup(alice.org, today().replace(day=1) - timedelta(days=1), latencies=[1],
                   cost_nano=10**12)  # fmt: skip

    page = logged_in(alice).get("/o/acme/")

    body = text(page)
    assert '<span class="stat-value" data-total="cost">$1.25</span>' in body
    assert '<span class="stat-value" data-total="requests">4</span>' in body
    assert "1,200 / 34" in body
    data = chart_data(page)
    assert data["days"][0] == today().replace(day=1).isoformat()
    assert data["cost"][-1] == "1.250000"
    assert 'href="/o/acme/usage/"' in body


def test_the_overview_of_a_quiet_month_says_how_to_start(alice: Persona) -> None:
    body = text(logged_in(alice).get("/o/acme/"))
    assert "No traffic this month yet" in body
    assert "<canvas" not in body


def test_projects_and_keys_show_what_they_spent_this_month(alice: Persona) -> None:
    key = actions.issue_api_key(alice.project, "backend", alice.actor)
    other = actions.issue_api_key(alice.project, "idle", alice.actor)
    add_rollup(
        alice.org,
        today(),
        project_id=alice.project.id,
        key_id=key.id,
        latencies=[1],
        cost_nano=3_456_000_000,
    )
    add_rollup(alice.org, today(), project_id=alice.project.id, key_id=key.id, model="b",
               latencies=[1], cost_nano=1_000_000_000)  # fmt: skip
    client = logged_in(alice)

    projects = text(client.get("/o/acme/projects/"))
    assert "Spend this month" in projects
    assert "$4.456" in projects

    keys = text(client.get("/o/acme/keys/"))
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r"<tr[^>]*>\s*<td><span class=\"key-id\"><code>([^<]+)…</code>.*?</tr>", keys, re.S
        )
    }
    assert "$4.456" in rows[key.prefix]
    assert "$0.00" in rows[other.prefix]

    project = text(client.get(f"/o/acme/projects/{alice.project.id}/"))
    assert "$4.456" in project
