"""A new user's first hour, in the browser: sign up, a key, a route, a request, revoke."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
from playwright.async_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.browser.conftest import Screenshots, in_django
from tests.conftest import PASSWORD
from tests.gateway.proxy.conftest import ProxyServer
from tests.polling import eventually

PROMPT = "Hello from my first app"


async def open_section(page: Page, name: str) -> None:
    """Follow the sidebar's link to a section of the org."""
    await page.get_by_role("navigation", name="Organization").get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


async def sign_up(page: Page, site: str) -> None:
    await page.goto(f"{site}/signup/")
    await page.get_by_label("Email").fill("ada@engines.test")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Organization name").fill("Analytical Engines")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_text("Analytical Engines is ready")).to_be_visible()


async def create_key(page: Page) -> str:
    """Create an API key; return its secret as the Copy button puts it on the clipboard."""
    await open_section(page, "API keys")
    await page.get_by_role("link", name="New key").first.click()
    await page.get_by_label("Name").fill("first app")
    await page.get_by_role("button", name="Create key").click()
    shown = await page.get_by_role("textbox", name="API key").input_value()
    await page.get_by_role("button", name="Copy the key").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied: str = await page.evaluate("navigator.clipboard.readText()")
    assert copied == shown and copied.startswith("sk-sel-")
    return copied


async def add_provider_key(page: Page) -> None:
    await open_section(page, "Provider keys")
    await page.get_by_role("link", name="Add key").first.click()
    await page.get_by_label("Provider").select_option(label="OpenAI-compatible")
    await page.get_by_label("Name").fill("mock provider")
    await page.get_by_label("API key").fill("sk-mock-provider-key")
    await page.get_by_role("button", name="Add key").click()
    await expect(page.get_by_role("cell", name="mock provider")).to_be_visible()


async def add_route(page: Page, mock_url: str) -> None:
    """Route the alias `chat` to the mock provider, with the org's key and a price."""
    await open_section(page, "Routes")
    await page.get_by_role("link", name="New route").first.click()
    await page.get_by_label("Model alias").fill("chat")
    deployment = page.get_by_role("region", name="New deployment").first
    await deployment.get_by_label("Provider", exact=True).select_option(label="OpenAI-compatible")
    await deployment.get_by_label("Provider model").fill("gpt-mock")
    key = deployment.get_by_label("Key")
    our_key = await key.locator("option", has_text="mock provider").get_attribute("value")
    await key.select_option(value=our_key)
    await deployment.get_by_text("Address, weight, quality").click()
    await deployment.get_by_label("API base").fill(f"{mock_url}/v1")
    # The mock's model is in no price list: a route to it names its price.
    await deployment.get_by_label("Input price").fill("1")
    await deployment.get_by_label("Output price").fill("2")
    await page.get_by_role("button", name="Create route").click()
    await expect(page.get_by_role("heading", level=1, name="chat")).to_be_visible()


async def revoke_key(page: Page) -> None:
    await open_section(page, "API keys")
    row = page.get_by_role("row").filter(has_text="first app")
    await row.get_by_role("link", name="Revoke").click()
    await page.get_by_role("button", name="Revoke key").click()
    await expect(row.get_by_text("Revoked")).to_be_visible()


def first_request(proxy: ProxyServer, secret: str) -> tuple[str, str]:
    """Send the app's first request with the OpenAI SDK; return its request id and answer."""
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=secret, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": PROMPT}]
    )
    answer = raw.parse().choices[0].message.content
    return raw.headers["x-request-id"], answer or ""


def refused(proxy: ProxyServer, secret: str) -> bool:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=secret, max_retries=0)
    try:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": PROMPT}])
    except openai.AuthenticationError:
        return True
    return False


async def test_a_new_user_signs_up_sends_a_first_request_and_revokes_the_key(
    page: Page,
    live_server: LiveServer,
    proxy: ProxyServer,
    mock_url: str,
    settings: Any,
    screenshots: Screenshots,
) -> None:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock provider listens on loopback
    await sign_up(page, live_server.url)
    await screenshots.take(page, "signed-up")
    secret = await create_key(page)
    await screenshots.take(page, "key-created")
    await add_provider_key(page)
    await screenshots.take(page, "provider-key-added")
    await add_route(page, mock_url)
    await screenshots.take(page, "route-created")

    request_id, answer = await asyncio.to_thread(first_request, proxy, secret)
    assert answer == f"Mock answer to: {PROMPT}"

    def logged() -> bool:
        drain_usage_stream()  # what the Celery worker does every second
        return RequestLog.objects.filter(request_id=request_id).exists()

    await in_django(lambda: eventually(logged, 20, "the request reaching the log"))
    await open_section(page, "Requests")
    row = page.get_by_role("row").filter(has_text="chat")
    await expect(row).to_contain_text("gpt-mock")
    await expect(row.get_by_text("200", exact=True)).to_be_visible()
    await screenshots.take(page, "request-logged")

    await revoke_key(page)
    await screenshots.take(page, "key-revoked")
    # The proxy learns of it from Redis within a second or so: poll, do not sleep.
    await asyncio.to_thread(eventually, lambda: refused(proxy, secret), 20, "a 401")
