"""`make bench-storage`: the request log and the rollups at scale, for one org.

    .venv/bin/python -m tests.benchmarks.storage [--rows N] [--runs R]

Seeds the org "bench-storage" up to N request-log rows over 30 days (once:
a later run reuses them; manage.py seed_request_log, with matching rollups),
then times, R runs each, with varied filter values:

(i) a request-log page as GET /api/v1/requests/ reads it: one org, newest
    first (created_at, id), 51 rows (limit 50 + one to know there is more),
    every other run from a keyset cursor at a random point of the window; no
    filter or filtered by key, project, model, status or error type, alone or
    together, and a filter that matches nothing;
(ii) the 30-day usage report GET /api/v1/usage/ answers from the rollups
    (observability.usage.usage_report), grouped by day and model.

Issue 14's targets: (i) p95 <= 50 ms, (ii) p95 <= 100 ms with 10 million
rows. The machine is shared: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import django

from infra import devenv

DAYS = 30
GROUPS = ("day", "model")


def _ms(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000 if len(samples) > 1 else samples[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    devenv.prepare()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    from observability.models import RequestLog, UsageRollup
    from observability.request_query import Keyset, RequestFilter, page_of
    from observability.usage import usage_report
    from tenants.models import Organization

    call_command("migrate", "--noinput", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-storage", defaults={"name": "Bench storage"}
    )
    since = datetime.now(UTC) - timedelta(days=DAYS)
    have = RequestLog.objects.filter(org=org, created_at__gte=since).count()
    if have < args.rows * 0.99:
        print(f"seeding {args.rows - have} rows (the org has {have} in the window)")
        call_command("seed_request_log", rows=args.rows - have, org=org.slug, days=DAYS)
        have = RequestLog.objects.filter(org=org, created_at__gte=since).count()
    rollup_rows = UsageRollup.objects.filter(org=org).count()
    rows = RequestLog.objects.filter(org=org)
    keys = list(rows.order_by().values_list("key_id", flat=True).distinct()[:50])
    projects = list(rows.order_by().values_list("project_id", flat=True).distinct()[:10])
    models = list(rows.order_by().values_list("model_requested", flat=True).distinct()[:10])
    rng = random.Random(14)

    window_s = DAYS * 86_400

    def page(**filters: Any) -> Callable[[], None]:
        """One API call's query, by the code the API runs (observability.request_query):
        the first page, or (every other run) a page from a cursor."""
        turn = [0]

        def run() -> None:
            chosen = {
                name: (rng.choice(value) if isinstance(value, list) else value)
                for name, value in filters.items()
            }
            turn[0] += 1
            cursor = None
            if turn[0] % 2 == 0:
                # A keyset cursor somewhere in the window: (created_at, id) of a row shown.
                at = datetime.now(UTC) - timedelta(seconds=rng.random() * window_s)
                cursor = Keyset(at, 2**62)
            page_of(org, RequestFilter(**chosen), cursor, 50)

        return run

    day_ago = datetime.now(UTC) - timedelta(days=1)
    pages = {
        "newest, no filter": page(),
        "key": page(key_id=keys),
        "project": page(project_id=projects),
        "model": page(model=models),
        "status 200": page(status="200"),
        "status 502": page(status="502"),
        "status class 5xx": page(status="5xx"),
        "error type": page(error_type=["upstream_error", "rate_limit_exceeded"]),
        "key + model + status 200": page(key_id=keys, model=models, status="200"),
        "key + status 429": page(key_id=keys, status="429"),
        "last 24 h, model": page(model=models, since=day_ago),
        "matches nothing (status 404)": page(status="404"),
    }

    def usage() -> None:
        today = datetime.now(UTC).date()
        usage_report(org, today - timedelta(days=DAYS - 1), today + timedelta(days=1), GROUPS)

    print(f"{have:,} request-log rows for one org over {DAYS} days; {rollup_rows:,} rollup rows")
    print(f"{'':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    results: dict[str, list[float]] = {}
    for name, run in [*pages.items(), ("usage: 30 days by day and model", usage)]:
        run()  # warm
        samples = []
        for _ in range(args.runs):
            began = time.perf_counter()
            run()
            samples.append(time.perf_counter() - began)
        results[name] = samples
        print(
            f"{name:<34}{_ms(samples, 50):>9.2f}{_ms(samples, 95):>9.2f}{max(samples) * 1000:>9.2f}"
        )
    page_p95 = max(_ms(s, 95) for n, s in results.items() if not n.startswith("usage"))
    usage_p95 = _ms(results["usage: 30 days by day and model"], 95)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"worst page p95 {page_p95:.2f} ms (target 50); usage p95 {usage_p95:.2f} ms"
          f" (target 100); load average {load} on {os.cpu_count()} cores")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
