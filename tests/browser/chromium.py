"""Pytest plugin: find the Chromium the browser tests drive, and say loudly when there is none.

Registered from tests/conftest.py, so it also runs in pytest-xdist's
controller, which prints the summary but collects nothing. Without a
Chromium the tests under tests/browser/ are skipped, and the run ends with
a line saying so; with SELIXES_BROWSER_TESTS=required (.ci/run sets it) a
missing Chromium is an error instead, so CI never passes without them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Debian's package (apt-get install chromium); Playwright never downloads a browser here.
CHROMIUM = Path(os.environ.get("SELIXES_CHROMIUM", "/usr/bin/chromium"))
BROWSER_TESTS = Path(__file__).resolve().parent


def missing() -> str | None:
    """Say why the browser tests cannot run here, or None when they can."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set SELIXES_CHROMIUM)"


def _is_browser_test(item: pytest.Item) -> bool:
    return item.path.is_relative_to(BROWSER_TESTS)


def pytest_configure(config: pytest.Config) -> None:
    lack = missing()
    if lack and os.environ.get("SELIXES_BROWSER_TESTS") == "required":
        raise pytest.UsageError(f"SELIXES_BROWSER_TESTS=required, but {lack}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lack = missing()
    if lack is None:
        return
    skip = pytest.mark.skip(reason=f"browser test skipped: {lack}")
    for item in items:
        if _is_browser_test(item):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lack = missing()
    if lack is None:
        return
    # Reports, not items: under xdist only the workers collect, the controller gets reports.
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if report.nodeid.startswith("tests/browser/")
    ]
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} BROWSER TESTS SKIPPED: {lack}", red=True, bold=True
        )
