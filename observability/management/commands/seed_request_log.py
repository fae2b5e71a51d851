"""`manage.py seed_request_log --rows N --org <id or slug>`: generated request-log rows and rollups.

For measuring the request log and the usage API at scale (`make bench-storage`),
never for a real org: the rows are made up in PostgreSQL (generate_series, no
round trip per row), spread evenly over the last --days days up to now, over
--keys keys in --projects projects and five models, about 5% of them failed.
The org's rollups are then rebuilt from its whole log, so they match it.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from observability import partitions
from observability.latency_histogram import BUCKETS, GROWTH
from tenants.models import Organization

MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "llama-3-70b"]
CHUNK = 500_000
_ATTEMPTS = (
    '[{"deployment_id": "r1:0", "provider": "openai", "model": "gpt-4o-mini",'
    ' "outcome": "ok", "latency_ms": 420, "endpoint": "api.openai.com", "health": "closed"}]'
)
# The rows of one chunk: g runs over the chunk's numbers, newest first.
_INSERT = """
INSERT INTO observability_requestlog (
    request_id, org_id, project_id, key_id, created_at, endpoint, model_requested,
    model_dispatched, provider, deployment_id, strategy, stream, status, error_type,
    error_code, input_tokens, output_tokens, cached_input_tokens, reasoning_tokens,
    latency_ms, ttfb_ms, cost_usd, attempts, client_disconnected, redactions,
    upstream_host, error_provider, routing_version, task
)
SELECT
    md5(%(salt)s || g::text), %(org)s, (%(projects)s::uuid[])[1 + k %% %(nprojects)s],
    (%(keys)s::uuid[])[1 + k], %(end)s - g * %(step)s * interval '1 microsecond',
    '/v1/chat/completions', (%(models)s::text[])[1 + m],
    CASE WHEN s < 400 THEN (%(models)s::text[])[1 + m] ELSE '' END, 'openai', 'r1:0',
    'priority', g %% 2 = 0, s,
    CASE WHEN s < 400 THEN '' WHEN s = 429 THEN 'rate_limit_exceeded' ELSE 'upstream_error' END,
    CASE WHEN s < 400 THEN '' WHEN s = 429 THEN 'rate_limited' ELSE 'all_deployments_failed' END,
    tin, tout, 0, 0, lat, lat / 4, round(tin * 0.0000005 + tout * 0.0000015, 6),
    %(attempts)s::jsonb, false, '[]'::jsonb, 'api.openai.com',
    CASE WHEN s >= 500 THEN 'openai' ELSE '' END, 7, ''
FROM (
    SELECT g, k, m, tin, tout, lat,
           CASE WHEN r < 0.95 THEN 200 WHEN r < 0.97 THEN 429 WHEN r < 0.99 THEN 502
                ELSE 400 END AS s
    FROM (
        SELECT g, floor(random() * %(nkeys)s)::int AS k, floor(random() * 5)::int AS m,
               random() AS r, (10 + random() * 3000)::int AS tin,
               (1 + random() * 800)::int AS tout, (50 + random() * random() * 8000)::int AS lat
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
    ) AS drawn
) AS generated
"""
# observability.latency_histogram.bucket_of, in SQL (seeding only: the drain uses bucket_of).
_BUCKET = (
    f"CASE WHEN latency_ms < 1 THEN 0"
    f" ELSE least({BUCKETS - 1}, 1 + floor(ln(latency_ms) / ln({GROWTH})))::int END"
)
_HISTOGRAM = (
    "ARRAY["
    + ", ".join(f"coalesce(sum(n) FILTER (WHERE bucket = {i}), 0)" for i in range(BUCKETS))
    + "]::int[]"
)
_GROUP = "org_id, day, project_id, key_id, user_id, model, provider, status, task"
_ROLLUPS = f"""
INSERT INTO observability_usagerollup (
    {_GROUP}, requests, errors, input_tokens, output_tokens, cached_input_tokens,
    reasoning_tokens, cost_nano, platform_fee_nano, latency_hist
)
SELECT {_GROUP}, sum(n), sum(errors), sum(tin), sum(tout), sum(tcached), sum(treasoning),
       sum(cost), sum(fee), {_HISTOGRAM}
FROM (
    SELECT org_id, (created_at AT TIME ZONE 'UTC')::date AS day, project_id, key_id, user_id,
           coalesce(nullif(model_dispatched, ''), model_requested) AS model, provider, status,
           task, {_BUCKET} AS bucket, count(*) AS n,
           count(*) FILTER (WHERE status >= 400) AS errors,
           sum(input_tokens) AS tin, sum(output_tokens) AS tout,
           sum(cached_input_tokens) AS tcached, sum(reasoning_tokens) AS treasoning,
           sum(coalesce(cost_usd, 0) * 1000000000)::bigint AS cost,
           sum(coalesce(platform_fee_usd, 0) * 1000000000)::bigint AS fee
    FROM observability_requestlog WHERE org_id = %(org)s
    GROUP BY {_GROUP}, bucket
) AS by_bucket
GROUP BY {_GROUP}
"""  # noqa: S608  (only this module's constants are interpolated)


class Command(BaseCommand):
    help = "Generate request-log rows and matching rollups for one org (benchmarks only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--org", required=True, help="the org's id or slug")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--keys", type=int, default=20)
        parser.add_argument("--projects", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        rows, days = options["rows"], options["days"]
        if rows < 1 or not 1 <= days <= settings.RETENTION_DAYS:
            raise CommandError("--rows must be positive and --days within the retention")
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            try:
                org = Organization.objects.filter(id=uuid.UUID(options["org"])).first()
            except ValueError:
                org = None
        if org is None:
            raise CommandError(f"no org {options['org']!r}")
        end = datetime.now(UTC)
        start = end - timedelta(days=days)
        partitions.ensure_partitions(start.date(), end.date())
        projects = [str(uuid.uuid4()) for _ in range(options["projects"])]
        keys = [str(uuid.uuid4()) for _ in range(options["keys"])]
        step_us = (end - start) / timedelta(microseconds=1) / rows
        began = time.perf_counter()
        for first in range(0, rows, CHUNK):
            last = min(rows, first + CHUNK) - 1
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_INSERT, {
                    "salt": uuid.uuid4().hex, "org": str(org.id), "projects": projects,
                    "nprojects": len(projects), "keys": keys, "nkeys": len(keys),
                    "models": MODELS, "end": end, "step": step_us, "first": first,
                    "last": last, "attempts": _ATTEMPTS,
                })  # fmt: skip
            self.stdout.write(f"{last + 1} rows ({time.perf_counter() - began:.0f} s)")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM observability_usagerollup WHERE org_id = %s", [org.id])
            cursor.execute(_ROLLUPS, {"org": str(org.id)})
            rollups = cursor.rowcount
            cursor.execute("ANALYZE observability_requestlog")
            cursor.execute("ANALYZE observability_usagerollup")
        self.stdout.write(
            f"seeded {rows} rows for {org.slug} over {days} days and rebuilt its {rollups}"
            f" rollup rows in {time.perf_counter() - began:.0f} s"
        )
