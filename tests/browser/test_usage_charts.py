"""The Usage page and the overview's month chart in Chromium: every chart drawn, on a phone too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.async_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tenants import actions
from tests.browser.conftest import PHONE, Screenshots, log_in
from tests.conftest import Persona
from tests.factories.rollups import add_rollup

MODELS = ("gpt-4o-mini", "claude-3-7-sonnet-20250219", "gemini-2.0-flash", "llama-3.3-70b")
LONG = "customer-support-assistant-for-the-european-region"

# For each canvas: whether Chart.js made a chart of it, how many non-zero points it
# holds, how many labels, and how many pixels are painted (a blank canvas has none).
CHARTS_JS = """() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => {
  const chart = window.Chart && Chart.getChart(canvas);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return {
    name: canvas.dataset.chart,
    chart: !!chart,
    points: chart ? chart.data.datasets.reduce(
      (n, d) => n + d.data.filter((v) => v !== null && Number(v) > 0).length, 0) : 0,
    labels: chart ? chart.data.labels.length : 0,
    painted: painted,
    width: canvas.getBoundingClientRect().width,
  };
})"""
# True once every canvas has a chart that painted (its animation may still run under load).
ALL_DRAWN_JS = (
    "() => { const c = document.querySelectorAll('canvas[data-chart]');"
    " return c.length > 0 && Array.from(c).every((canvas) => window.Chart &&"
    " Chart.getChart(canvas) && (() => { const d = canvas.getContext('2d')"
    ".getImageData(0, 0, canvas.width, canvas.height).data; let n = 0;"
    " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n > 1000; })()); }"
)


def today() -> date:
    return timezone.now().date()


@dataclass
class BusyOrg:
    persona: Persona


@pytest.fixture
def busy_org(alice: Persona) -> BusyOrg:
    """Thirty days of traffic: four models, three keys with long names, two projects, errors."""
    other = actions.create_project(alice.org, f"{LONG}-batch", alice.actor)
    keys = [
        (actions.issue_api_key(project, f"{LONG}-{n}", alice.actor).id, project.id)
        for n, project in enumerate((alice.project, alice.project, other))
    ]
    for back in range(30):
        day = today() - timedelta(days=back)
        for i, model in enumerate(MODELS):
            key_id, project_id = keys[(back + i) % len(keys)]
            add_rollup(
                alice.org, day, model=model, key_id=key_id, project_id=project_id,
                latencies=[80 + 40 * i + back] * (5 + (back * 7 + i * 3) % 11),
                input_tokens=1_000 * (i + 1) + 37 * back, output_tokens=300 * (i + 1) + 11 * back,
                cost_nano=(i + 1) * 13_000_000 * (1 + back % 5),
            )  # fmt: skip
        if back % 4 == 0:
            add_rollup(alice.org, day, model=MODELS[0], status=502, latencies=[2_500] * 3)
    return BusyOrg(alice)


async def charts_of(page: Page) -> list[dict[str, Any]]:
    await page.wait_for_function(ALL_DRAWN_JS)
    drawn: list[dict[str, Any]] = await page.evaluate(CHARTS_JS)
    return drawn


def assert_drawn(charts: list[dict[str, Any]], names: set[str], days: int) -> None:
    assert {c["name"] for c in charts} == names
    for chart in charts:
        assert chart["chart"], chart
        assert chart["points"] > 0, chart
        assert chart["labels"] == days, chart
        assert chart["painted"] > 1_000, chart  # axes, labels and bars or lines


USAGE_CHARTS = {"cost-by-model", "requests", "tokens", "latency"}


async def test_the_usage_page_draws_every_chart_and_follows_the_window(
    page: Page, live_server: LiveServer, busy_org: BusyOrg, screenshots: Screenshots
) -> None:
    await log_in(page, live_server.url, busy_org.persona)
    await (
        page.get_by_role("navigation", name="Organization")
        .get_by_role("link", name="Usage")
        .click()
    )
    await expect(page.get_by_role("heading", level=1, name="Usage")).to_be_visible()

    assert_drawn(await charts_of(page), USAGE_CHARTS, days=30)
    await expect(page.get_by_text(f"{LONG}-0").first).to_be_visible()  # top keys, by name
    await expect(page.get_by_role("link", name=f"{LONG}-batch")).to_be_visible()
    await screenshots.take(page, "30-days")

    await page.get_by_role("navigation", name="Window").get_by_role("link", name="7 days").click()
    await expect(page).to_have_url(f"{live_server.url}/o/acme/usage/?days=7")
    assert_drawn(await charts_of(page), USAGE_CHARTS, days=7)
    await screenshots.take(page, "7-days")

    since, last = today() - timedelta(days=12), today() - timedelta(days=10)
    await page.get_by_label("From", exact=True).fill(since.isoformat())
    await page.get_by_label("To", exact=True).fill(last.isoformat())
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_text(f"to {last:%b} {last.day}, {last.year}")).to_be_visible()
    assert_drawn(await charts_of(page), USAGE_CHARTS, days=3)
    await screenshots.take(page, "custom-window")


async def test_an_org_without_traffic_is_told_what_to_do(
    page: Page, live_server: LiveServer, alice: Persona, screenshots: Screenshots
) -> None:
    await log_in(page, live_server.url, alice)
    await page.goto(f"{live_server.url}/o/acme/usage/")
    await expect(page.get_by_role("heading", name="No usage in this window")).to_be_visible()
    await expect(page.get_by_role("link", name="New API key")).to_be_visible()
    assert await page.locator("canvas").count() == 0
    await screenshots.take(page, "empty")

    await page.goto(f"{live_server.url}/o/acme/")
    await expect(page.get_by_text("No traffic this month yet.")).to_be_visible()
    await screenshots.take(page, "overview-empty")


async def test_the_overview_charts_this_months_spend(
    page: Page, live_server: LiveServer, busy_org: BusyOrg, screenshots: Screenshots
) -> None:
    await log_in(page, live_server.url, busy_org.persona)
    await page.goto(f"{live_server.url}/o/acme/")
    assert_drawn(await charts_of(page), {"cost"}, days=today().day)
    await expect(page.get_by_role("link", name="Usage").last).to_be_visible()
    await screenshots.take(page, "overview")


async def test_usage_fits_a_phone(
    phone: Page, live_server: LiveServer, busy_org: BusyOrg, screenshots: Screenshots
) -> None:
    await log_in(phone, live_server.url, busy_org.persona)
    for path, names, days in (
        ("/o/acme/usage/", USAGE_CHARTS, 30),
        ("/o/acme/", {"cost"}, today().day),
    ):
        await phone.goto(f"{live_server.url}{path}")
        charts = await charts_of(phone)
        assert_drawn(charts, names, days)
        assert all(c["width"] <= PHONE["width"] - 32 for c in charts), charts
        await screenshots.take(phone, "usage" if "usage" in path else "overview")
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"
