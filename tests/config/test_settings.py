"""Settings read from the environment: links follow the ports make run was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL_VARIABLES = ("SELIXES_SITE_URL", "SITE_URL", "SELIXES_PROXY_URL")


def _urls(**environ: str) -> tuple[str, str]:
    """SITE_URL and PROXY_URL as a fresh process reads them from this environment."""
    env = {k: v for k, v in os.environ.items() if k not in URL_VARIABLES}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", **environ}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.SITE_URL, settings.PROXY_URL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    site, proxy = result.stdout.split()
    return site, proxy


def test_links_follow_the_web_and_proxy_ports_when_no_url_is_set() -> None:
    assert _urls(SELIXES_WEB_PORT="8301", SELIXES_PROXY_PORT="8381") == (
        "http://localhost:8301",
        "http://localhost:8381",
    )


def test_the_urls_given_win_over_the_ports() -> None:
    site, proxy = _urls(
        SELIXES_WEB_PORT="8301",
        SELIXES_PROXY_PORT="8381",
        SELIXES_SITE_URL="https://app.example.test",
        SITE_URL="https://old-name.example.test",  # its older name, which it replaces
        SELIXES_PROXY_URL="https://llm.example.test",
    )
    assert (site, proxy) == ("https://app.example.test", "https://llm.example.test")
