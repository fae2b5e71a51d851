"""`python -m gateway.mock_provider --help`, where the README sends people for failure modes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.mock_provider.scenarios import TERM_NAMES

ROOT = Path(__file__).resolve().parents[3]


def _help() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.mock_provider", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_help_lists_every_failure_mode_and_how_to_ask_for_it() -> None:
    page = _help()
    for term in TERM_NAMES:
        assert f"\n    {term}" in page, term  # a row of the TERM table, not a passing mention
    assert "x-mock-scenario" in page
    assert "mock-TERM" in page  # the model-name form, the one that works through the proxy
    assert "MOCK_PROVIDER_TIMEOUT_S" in page


def test_help_lists_the_endpoints_of_each_dialect() -> None:
    page = _help()
    for path in ("/v1/chat/completions", "/v1/messages", ":generateContent", "/_mock/requests"):
        assert path in page, path
