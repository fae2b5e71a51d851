"""The web's log: a refused click is one line; a server error keeps its traceback."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from tenants import actions
from tests.conftest import Persona, logged_in


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the web's console handler (settings.LOGGING) writes, for the test's length."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def test_a_403_is_logged_as_one_line_without_a_traceback(
    alice: Persona, bob: Persona, console: io.StringIO
) -> None:
    key = actions.issue_api_key(alice.project, "alice key", alice.actor, user=alice.user)
    browser = logged_in(bob)  # a member may not revoke another member's key
    response = browser.post(f"/o/acme/keys/{key.id}/revoke/")
    assert response.status_code == 403
    lines = [line for line in console.getvalue().splitlines() if line]
    forbidden = [line for line in lines if "Forbidden (Permission denied)" in line]
    assert len(forbidden) == 1, lines
    assert "Traceback" not in console.getvalue()


def test_a_server_error_keeps_its_traceback(console: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        # As Django's handler logs an uncaught exception (django.utils.log.log_response).
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", "/x", exc_info=sys.exc_info(), extra={"status_code": 500}
        )
    assert "Traceback" in console.getvalue()
    assert "RuntimeError: boom" in console.getvalue()
