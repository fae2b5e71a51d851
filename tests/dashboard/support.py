"""Helpers for driving the dashboard like a browser: read the CSRF token, submit forms."""

from __future__ import annotations

import re
from typing import Protocol

from django.test import Client

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Page(Protocol):
    """What the tests read of a test client's response."""

    status_code: int
    content: bytes

    def __getitem__(self, header: str) -> str: ...


def text(page: Page) -> str:
    return page.content.decode()


def csrf_token(page: Page) -> str:
    """Return the CSRF token of the (first) form on a page."""
    match = _TOKEN.search(text(page))
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def submit(client: Client, page_url: str, data: dict[str, str], action: str | None = None) -> Page:
    """Open `page_url`, then post its form (to `action`, default the same URL) with its token."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    response: Page = client.post(
        action or page_url, {**data, "csrfmiddlewaretoken": csrf_token(page)}
    )
    return response
