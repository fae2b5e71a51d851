"""Debian's Chromium driven by Playwright's async API, against a live dashboard.

Why async: Playwright's sync API marks the test's thread as running an event
loop between its calls, and Django then refuses the ORM there
(SynchronousOnlyOperation) unless DJANGO_ALLOW_ASYNC_UNSAFE is set. So the
tests are `async def` on pytest-asyncio's loop, the dashboard is
pytest-django's `live_server` (a thread of this process, so the `settings`
fixture reaches it), and the little ORM work a test does between pages runs
through `in_django`, in a thread of its own, as Django asks of async code.

Each test keeps a screenshot of every step it names under
tests/browser/artifacts/<test>/ (ignored by git), plus the page it failed on;
the directory is deleted when the test passes, unless
SELIXES_KEEP_SCREENSHOTS=1.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connections
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from tests.browser.chromium import CHROMIUM
from tests.conftest import PASSWORD, Persona
from tests.gateway.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture
from tests.gateway.proxy.conftest import ProxyServer, serving_proxy

T = TypeVar("T")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# No sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
# The rest keep a test browser from calling home (updates, sync, field trials).
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
# An iPhone 12 to 15: the narrowest screen the dashboard promises to fit.
PHONE = {"width": 390, "height": 844}
# Generous: a loaded CI machine runs the pages, the proxy and the browser on two cores.
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


async def in_django(function: Callable[[], T]) -> T:
    """Run ORM code from an async test: in a thread, closing that thread's connections after."""

    def run() -> T:
        try:
            return function()
        finally:
            # Else the test database could not be flushed or dropped at the end.
            connections.close_all()

    return await asyncio.to_thread(run)


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one test's steps, in a directory of its own."""

    directory: Path
    taken: int = 0

    async def take(self, page: Page, step: str) -> None:
        """Keep the page as it looks now; a screenshot is evidence, never the test's verdict.

        Chromium sometimes cannot produce a frame in time on a loaded machine
        ("Unable to capture screenshot"): then the visible part is tried, and
        if that fails too the step gets a note saying why instead of a picture.
        """
        self.taken += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.taken:02d}-{step}"
        try:
            await page.screenshot(path=self.directory / f"{name}.png", full_page=True)
            return
        except PlaywrightError:
            pass
        try:
            await page.screenshot(path=self.directory / f"{name}.png")
        except PlaywrightError as e:
            (self.directory / f"{name}.txt").write_text(f"no screenshot: {e.message}\n")


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Iterator[Screenshots]:
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    shots = Screenshots(ARTIFACTS / name)
    shutil.rmtree(shots.directory, ignore_errors=True)  # a previous run's
    yield shots
    failed = request.node.stash.get(_FAILED, False)
    if not failed and not os.environ.get("SELIXES_KEEP_SCREENSHOTS"):
        shutil.rmtree(shots.directory, ignore_errors=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def proxy() -> Iterator[ProxyServer]:
    """A real proxy process on the test Redis, as `make run` starts it."""
    with serving_proxy(name="proxy of the browser tests") as server:
        yield server


async def _open(
    browser: Browser,
    request: pytest.FixtureRequest,
    screenshots: Screenshots,
    **options: Any,
) -> AsyncIterator[Page]:
    # The clipboard, for the key page's Copy button; localhost is a secure context.
    context: BrowserContext = await browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], **options
    )
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        await screenshots.take(page, "failed")
    await context.close()


@pytest.fixture
async def page(
    browser: Browser, request: pytest.FixtureRequest, screenshots: Screenshots
) -> AsyncIterator[Page]:
    """A desktop browser tab, its own cookies; its last screen is kept if the test fails."""
    async for opened in _open(browser, request, screenshots, viewport=DESKTOP):
        yield opened


@pytest.fixture
async def phone(
    browser: Browser, request: pytest.FixtureRequest, screenshots: Screenshots
) -> AsyncIterator[Page]:
    """A 390 x 844 phone's tab (mobile viewport and touch), as `page` otherwise."""
    async for opened in _open(
        browser, request, screenshots, viewport=PHONE, is_mobile=True, has_touch=True
    ):
        yield opened


async def log_in(page: Page, base_url: str, persona: Persona) -> None:
    """Log in through the login page, as the persona would."""
    await page.goto(f"{base_url}/login/")
    await page.get_by_label("Email").fill(persona.user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("navigation", name="Organization")).to_be_visible()
