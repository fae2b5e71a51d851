"""Pytest plugin (loaded with -p before pytest-django): give the test run its services.

pytest-django reads settings before any conftest.py is imported, so the
environment must be filled here. Tests use Redis database 15 so `make test`
never touches the data of a `make run` sharing the same embedded Redis; set
SELIXES_TEST_REDIS_URL to choose otherwise. Under pytest-xdist each worker
takes the database below the previous one's (gwN: 15 - N), so workers never
flush each other's keys; PostgreSQL needs nothing here, as pytest-django names
each worker's test database test_<name>_gwN.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from infra import devenv, embedded
from infra.xdist_worker import MAX_WORKERS, worker_index

TEST_DB = 15


def _db_of(url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return int(dict(parse_qsl(parts.query)).get("db", "0"))
    return int(parts.path.strip("/") or "0")


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # urlunsplit would drop the empty authority ("unix:/path"); redis-py needs "unix:///path".
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def _test_redis_url(app_url: str) -> str:
    base = os.environ.get("SELIXES_TEST_REDIS_URL") or _with_db(app_url, TEST_DB)
    db = _db_of(base) - worker_index()
    if db < 0:
        raise pytest.UsageError(
            f"worker {worker_index()} has no Redis database left below {_db_of(base)}: "
            f"run fewer workers (at most {MAX_WORKERS}) or name a higher SELIXES_TEST_REDIS_URL db"
        )
    return _with_db(base, db)


# Stop at the end only what this run started: a `make run` may be using them.
# Workers start after the controller has imported this module, so the
# controller starts the services and the workers find them running (the start
# is under embedded's lock either way).
_started_here = not embedded.running()
devenv.prepare()
os.environ["REDIS_URL"] = _test_redis_url(os.environ["REDIS_URL"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook; absent with -p no:xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker per CPU, at most MAX_WORKERS (one Redis database each)."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def pytest_configure(config: pytest.Config) -> None:
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > MAX_WORKERS:
        raise pytest.UsageError(
            f"-n {workers}: at most {MAX_WORKERS} workers, one Redis database each"
        )


def pytest_unconfigure(config: object) -> None:
    # xdist workers share the controller's services; only the controller stops them.
    if _started_here and not os.environ.get("PYTEST_XDIST_WORKER"):
        embedded.stop()
