"""A person works the request log in Chromium: filters it, opens a request, exports what they see.

At 1280 px the log's table fits its card (no sideways scrolling), and at
390 px no page of the log is wider than the phone; screenshots of each step
are kept under tests/browser/artifacts/ when the test fails (or always, with
SELIXES_KEEP_SCREENSHOTS=1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.async_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tenants import actions
from tests.browser.conftest import DESKTOP, PHONE, Screenshots, log_in
from tests.conftest import Persona
from tests.factories.request_log import attempt, logged_request

LONG = "customer-support-assistant-for-the-european-region"
MODEL = "claude-3-7-sonnet-20250219-long-context-preview"


@dataclass
class BusyLog:
    persona: Persona
    failed_id: str
    served_id: str
    project_name: str


@pytest.fixture
def busy_log(alice: Persona) -> BusyLog:
    """Acme's log: long names, a fallback chain, redactions, successes and failures."""
    batch = actions.create_project(alice.org, "Batch jobs of the data platform", alice.actor)
    key = actions.issue_api_key(alice.project, f"{LONG}-key", alice.actor)
    batch_key = actions.issue_api_key(batch, "nightly-batch", alice.actor)
    now = timezone.now()
    chain = [
        attempt("openai_compatible", MODEL, "upstream_timeout", 10_000,
                "llm-gateway.eu-west-1.internal.example.com:8443", "half_open"),
        attempt("anthropic", MODEL, "ok", 2_345, "api.anthropic.com", "closed"),
    ]  # fmt: skip
    redactions = [
        {"entity": entity, "action": "mask", "count": 12, "detector": "regex", "where": "prompt"}
        for entity in ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN")
    ]
    for minutes in range(1, 30):
        logged_request(
            alice.org,
            project_id=alice.project.id,
            key_id=key.id,
            created_at=now - timedelta(minutes=minutes),
            model_requested=LONG,
            model_dispatched=MODEL,
            provider="anthropic",
            input_tokens=123_456,
            output_tokens=65_432,
            latency_ms=12_345,
            cost_usd=Decimal("1.234567"),
            attempts=chain,
            redactions=redactions,
            upstream_host="api.anthropic.com",
        )
    failed = logged_request(
        alice.org,
        project_id=batch.id,
        key_id=batch_key.id,
        created_at=now - timedelta(seconds=30),
        model_requested=LONG,
        model_dispatched="",
        provider="",
        status=502,
        error_type="upstream_error",
        error_code="all_deployments_failed",
        error_provider="openai_compatible",
        cost_usd=None,
        attempts=[chain[0], {**chain[0], "health": "open", "outcome": "http_503"}],
        redactions=redactions[:1],
        routing_version=1234567,
        task="summarization",
        platform_fee_usd=Decimal("0.000010"),
    )
    served = logged_request(
        alice.org, project_id=batch.id, key_id=batch_key.id, created_at=now - timedelta(hours=2)
    )
    return BusyLog(alice, failed.request_id, served.request_id, batch.name)


async def _width(page: Page, selector: str = "html") -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the first element matching `selector`."""
    sizes: list[int] = await page.eval_on_selector(selector, "e => [e.scrollWidth, e.clientWidth]")
    return sizes[0], sizes[1]


async def test_a_person_filters_the_log_opens_a_request_and_exports_it(
    page: Page, live_server: LiveServer, busy_log: BusyLog, screenshots: Screenshots
) -> None:
    await log_in(page, live_server.url, busy_log.persona)
    await page.get_by_role("link", name="Requests", exact=True).click()
    await expect(page.get_by_role("heading", name="Requests", exact=True)).to_be_visible()
    await screenshots.take(page, "log-1280")
    scroll, client = await _width(page, ".table-card")
    assert scroll <= client, f"the log's table scrolls sideways at 1280 px: {scroll} > {client}"
    assert (await _width(page))[0] <= DESKTOP["width"]

    form = page.get_by_role("form", name="Filter requests")
    await form.get_by_label("Project").select_option(label=busy_log.project_name)
    await form.get_by_label("Status").select_option("error")
    await form.get_by_role("button", name="Filter").click()
    rows = page.locator("table.request-log tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("all_deployments_failed")
    await expect(rows.first).to_contain_text("OpenAI-compatible")
    await screenshots.take(page, "filtered-1280")

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = await download.path()
    [header, *exported] = list(csv.reader(io.StringIO(path.read_text())))
    assert [row[header.index("request_id")] for row in exported] == [busy_log.failed_id]

    await rows.first.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Attempts")).to_be_visible()
    attempts = page.locator("table").first
    await expect(attempts).to_contain_text("llm-gateway.eu-west-1.internal.example.com:8443")
    await expect(attempts).to_contain_text("probing")
    await expect(attempts).to_contain_text("failing")
    await expect(page.get_by_role("heading", name="PII redactions")).to_be_visible()
    await screenshots.take(page, "detail-1280")
    assert (await _width(page))[0] <= DESKTOP["width"]


async def test_the_log_and_a_request_fit_a_phone(
    phone: Page, live_server: LiveServer, busy_log: BusyLog, screenshots: Screenshots
) -> None:
    await log_in(phone, live_server.url, busy_log.persona)
    base = f"{live_server.url}/o/{busy_log.persona.org.slug}/requests/"
    for name, url in (
        ("log-390", base),
        ("filtered-390", f"{base}?status=error&window=24h"),
        ("detail-390", f"{base}{busy_log.failed_id}/"),
    ):
        response = await phone.goto(url)
        assert response is not None and response.ok, url
        await screenshots.take(phone, name)
        width = (await _width(phone))[0]
        assert width <= PHONE["width"], f"{name} is {width} px wide"
