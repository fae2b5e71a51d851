"""Pytest plugin (loaded with -p before pytest-django): give the test run its services.

pytest-django reads settings before any conftest.py is imported, so the
environment must be filled here. Tests use Redis database 15 so `make test`
never touches the data of a `make run` sharing the same embedded Redis; set
SELIXES_TEST_REDIS_URL to choose otherwise.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from infra import devenv, embedded


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # urlunsplit would drop the empty authority ("unix:/path"); redis-py needs "unix:///path".
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


# Stop at the end only what this run started: a `make run` may be using them.
_started_here = not embedded.running()
devenv.prepare()
os.environ["REDIS_URL"] = os.environ.get("SELIXES_TEST_REDIS_URL") or _with_db(
    os.environ["REDIS_URL"], 15
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def pytest_unconfigure(config: object) -> None:
    # xdist workers share the controller's services; only the controller stops them.
    if _started_here and not os.environ.get("PYTEST_XDIST_WORKER"):
        embedded.stop()
