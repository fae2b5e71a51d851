"""Alice turns observability on from the settings page and reads a trace from the request log."""

from __future__ import annotations

from typing import Any

import orjson
import redis
from playwright.async_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gateway.shared.snapshot import snapshot_key
from tenants.models import AuditEvent, Organization, Project
from tests.browser.conftest import PHONE, Screenshots, in_django, log_in
from tests.conftest import Persona
from tests.factories.kept_traces import kept_trace, logged_request


def _observability_published(org: Organization, redis_url: str) -> Any:
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.hget(snapshot_key(str(org.id)), "body")
    finally:
        client.close()
    return orjson.loads(raw)["observability"] if raw else None


async def test_alice_turns_observability_on_and_views_a_trace(
    page: Page,
    phone: Page,
    live_server: LiveServer,
    alice: Persona,
    screenshots: Screenshots,
    settings: Any,
) -> None:
    base = f"{live_server.url}/o/{alice.org.slug}"
    await log_in(page, live_server.url, alice)
    await page.get_by_role("link", name="Settings").click()
    status = page.get_by_role("status").filter(has_text="trace")
    await expect(status).to_contain_text("Off")
    await expect(page.get_by_text("30 days")).to_be_visible()
    await screenshots.take(page, "settings-off")

    await page.get_by_role("button", name="Turn observability on").click()
    await expect(page.get_by_text("Observability is on for Acme.")).to_be_visible()
    await expect(status).to_contain_text("On")
    await screenshots.take(page, "settings-on")
    published = await in_django(lambda: _observability_published(alice.org, settings.REDIS_URL))
    assert published["enabled"] is True
    assert len(published["data_keys"]) == 3

    # A project of its own: off while the org is on.
    await page.goto(f"{base}/projects/{alice.project.id}/")
    await expect(page.get_by_text("Follows the organization's setting.")).to_be_visible()
    await page.get_by_label("Observability of this project").select_option(
        label="Off for this project"
    )
    await page.get_by_role("button", name="Save observability").click()
    await expect(page.get_by_text("This project's own setting.")).to_be_visible()
    await screenshots.take(page, "project-off")
    override = await in_django(
        lambda: Project.objects.get(id=alice.project.id).observability_enabled
    )
    assert override is False

    # A request whose trace the proxy sealed with today's key and the drain stored.
    def a_kept_request() -> str:
        trace = kept_trace(alice.org)
        logged_request(alice.org, trace.request_id)
        return trace.request_id

    request_id = await in_django(a_kept_request)
    await page.goto(f"{base}/requests/{request_id}/")
    await page.get_by_role("link", name="View trace").click()
    await expect(page.get_by_role("heading", name="Request sent to the provider")).to_be_visible()
    # The payload's markup is shown as text, pretty-printed.
    await expect(page.get_by_text('"content": "Say <b>hello</b> & wave"')).to_be_visible()
    await expect(page.get_by_text('"content": "Hello! <script>"')).to_be_visible()
    await expect(page.get_by_text("Complete: nothing was cut.")).to_be_visible()
    await screenshots.take(page, "trace")

    await log_in(phone, live_server.url, alice)
    for path, name in (
        (f"/requests/{request_id}/trace/", "trace-phone"),
        ("/settings/", "settings-phone"),
    ):
        await phone.goto(f"{base}{path}")
        await screenshots.take(phone, name)
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"

    views = await in_django(
        lambda: AuditEvent.objects.filter(org=alice.org, action="trace.viewed").count()
    )
    assert views == 2  # the desktop view and the phone's, each audited
