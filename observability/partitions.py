"""Day partitions of the request log and the trace table: create ahead, list, drop behind.

Both tables are range-partitioned on created_at, one partition per UTC day,
named `<table>_pYYYYMMDD`. Retention drops a whole day at once (a DROP TABLE,
no row-by-row DELETE, no bloat), and a query over a window reads only the
days it covers.

There is no default partition on purpose: rows landing in one would make
creating that day's partition later scan and move them under a lock. A row
whose day has no partition is refused instead, so every writer (the drain)
makes sure its days exist first, through ensure_partitions.

Creation and dropping take one transaction-scoped advisory lock, so two
workers (or a worker and beat) creating the same day never race on the
catalog; CREATE TABLE IF NOT EXISTS then makes a repeat a no-op.

Both also take an ACCESS EXCLUSIVE lock on the parent table for a moment. A
long reader (a streamed export) would make them wait, and every query queued
behind them with it, so they give up after LOCK_TIMEOUT (OperationalError)
and are tried again: beat creates days long before they are needed, and the
purge task retries.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

REQUEST_LOG = "observability_requestlog"
TRACE = "observability_trace"
TABLES = (REQUEST_LOG, TRACE)
# Days created beyond today: beat runs hourly, so one missed run (or a proxy
# clock a little ahead) still finds its partition.
AHEAD_DAYS = 3
# Any constant shared by every process: the key of the advisory lock.
_LOCK_KEY = 0x5E1_0B5_DA7
_SUFFIX = re.compile(r"_p(\d{8})$")
LOCK_TIMEOUT = "5s"


def today_utc(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def retention_cutoff(today: date) -> date:
    """The first day kept: anything of an earlier day is past the retention."""
    return today - timedelta(days=settings.RETENTION_DAYS)


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _bound(day: date) -> str:
    return f"{day.isoformat()} 00:00:00+00"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def list_partitions(table: str = REQUEST_LOG) -> list[date]:
    """The days that have a partition of `table`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    days = []
    for name in names:
        if name.startswith(table) and (match := _SUFFIX.search(name)):
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


def ensure_partitions(first: date, last: date, tables: tuple[str, ...] = TABLES) -> list[str]:
    """Create the missing partitions for every day from first to last (inclusive); return them.

    Idempotent and safe to run from several processes at once. Runs in its own
    (short) transaction when called outside one, so the catalog lock it takes
    on the parent is not held while a batch is written.
    """
    created: list[str] = []
    if last < first:
        return created
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for table in tables:
            existing = set(list_partitions(table))
            for day in _days(first, last):
                if day in existing:
                    continue
                name = partition_name(table, day)
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}"'
                    f" FOR VALUES FROM ('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')"
                )
                created.append(name)
    return created


def ensure_ahead(today: date) -> list[str]:
    """Partitions for the whole retention window and AHEAD_DAYS past today (beat, migration)."""
    return ensure_partitions(retention_cutoff(today), today + timedelta(days=AHEAD_DAYS))


def drop_partitions_before(day: date, tables: tuple[str, ...] = TABLES) -> list[str]:
    """Drop every partition of a day before `day`; return the names dropped. Idempotent."""
    dropped: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for table in tables:
            for old in list_partitions(table):
                if old < day:
                    name = partition_name(table, old)
                    cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
                    dropped.append(name)
    return dropped
