"""Fold ledger entries older than the retention into per-counter, per-day totals.

CONTRACT.md section 6: no per-request row outlives SELIXES_RETENTION_DAYS,
and what budgets and billing need beyond it is kept as per-day totals that
name no request. compact_ledger_before(day) moves every LedgerEntry that
occurred before `day` (00:00 UTC) into LedgerDayTotal rows: one per counter
label the entry was charged to, and one ORG_SPEND row for the org's whole
spend that day (billing's per-org daily spend), adding to rows already there.

Each batch is one SQL statement (a DELETE ... RETURNING feeding an INSERT ...
ON CONFLICT DO UPDATE) in its own transaction, so an entry leaves the entries
table in the same commit that adds it to the totals: an interrupted run rolls
back its batch and loses or doubles nothing, and running again (or two runs
at once: the DELETE locks what it moves, and a row deleted meanwhile is
skipped) carries on with what is left. Readers (gateway.budgets.ledger:
ledger_spent, org_spend_by_day) read both tables in one statement, so their
answers are the same before, during and after.

Callers: observability's retention purge (the "ledger compaction hook", with
the cutoff it drops partitions by) and `manage.py compact_ledger`.

Accepted race: the drain writes events at least once and relies on the unique
request_id to ignore a redelivered one. A redelivery comes at most a minute
or so after the first write (observability.drain.CLAIM_IDLE_MS), so it could
count twice only for an event already older than the cutoff when it was first
written, compacted within that minute. Entries of the last full UTC day are
never compacted (MIN_KEPT_DAYS), which also leaves the reaper's replacement
of a late settlement (tombstones live 24 hours) working on request ids.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gateway.budgets.models import ORG_SPEND, LedgerDayTotal, LedgerEntry
from tenants.models import Organization

log = logging.getLogger(__name__)
# Entries moved per transaction: bounds how long a batch holds its row locks
# and how much a failed batch has to redo. 50,000 moved about 18,000 entries/s
# on a loaded 2-core machine, 10,000 about half that (per-batch overhead).
BATCH = 50_000
# Yesterday and today keep their entries whatever the cutoff asked for.
MIN_KEPT_DAYS = 1

_COMPACT_SQL = """
WITH moved AS (
    DELETE FROM {entries}
    WHERE id IN (
        SELECT id FROM {entries}
        WHERE org_id = %(org)s AND occurred_at < %(before)s
        ORDER BY occurred_at
        LIMIT %(batch)s
        FOR UPDATE
    )
    RETURNING id, org_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, cost_nano, windows
),
charged AS (
    -- An entry counts once per label, however often its array holds it.
    SELECT DISTINCT moved.id, moved.org_id, moved.day, label AS counter, moved.cost_nano
    FROM moved, unnest(moved.windows) AS label
    UNION ALL
    SELECT moved.id, moved.org_id, moved.day, %(all)s, moved.cost_nano FROM moved
),
added AS (
    INSERT INTO {totals} (org_id, counter, day, cost_nano, requests)
    SELECT org_id, counter, day, SUM(cost_nano), COUNT(*)
    FROM charged
    GROUP BY org_id, counter, day
    ON CONFLICT (org_id, counter, day) DO UPDATE
    SET cost_nano = {totals}.cost_nano + EXCLUDED.cost_nano,
        requests = {totals}.requests + EXCLUDED.requests
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM moved), (SELECT COUNT(*) FROM added)
"""


@dataclass(frozen=True)
class Compacted:
    """What a compaction did: entries folded in and deleted, day-total rows added to, orgs."""

    entries: int = 0
    totals: int = 0
    orgs: int = 0


def retention_cutoff(today: date | None = None) -> date:
    """The first day still kept per request: today (UTC) minus SELIXES_RETENTION_DAYS."""
    today = today or timezone.now().astimezone(UTC).date()
    return today - timedelta(days=settings.RETENTION_DAYS)


def _latest_allowed(today: date | None) -> date:
    today = today or timezone.now().astimezone(UTC).date()
    return today - timedelta(days=MIN_KEPT_DAYS)


def _compact_batch(org_id: uuid.UUID, before: datetime, batch: int) -> tuple[int, int]:
    sql = _COMPACT_SQL.format(
        entries=LedgerEntry._meta.db_table, totals=LedgerDayTotal._meta.db_table
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"org": org_id, "before": before, "batch": batch, "all": ORG_SPEND})
        moved, added = cursor.fetchone() or (0, 0)
    return int(moved), int(added)


def compact_ledger_before(day: date, today: date | None = None, batch: int = BATCH) -> Compacted:
    """Fold every ledger entry that occurred before `day` (00:00 UTC) into day totals.

    Idempotent and safe to resume: see the module docstring. Refuses a `day`
    after yesterday (UTC; `today` is for tests that drive the clock): recent
    entries are still matched by request id (the drain's redeliveries, the
    reaper's late settlements). `batch`: entries per transaction.
    """
    latest = _latest_allowed(today)
    if day > latest:
        raise ValueError(
            f"entries of the last {MIN_KEPT_DAYS} day are kept per request:"
            f" compact before {latest.isoformat()} at the latest, not {day.isoformat()}"
        )
    before = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    entries = totals = orgs = 0
    # Org by org: the (org, occurred_at) index finds an org's old entries,
    # where a scan for old entries of every org would read the whole table.
    for org_id in Organization.objects.order_by("id").values_list("id", flat=True).iterator():
        org_entries = 0
        while True:
            moved, added = _compact_batch(org_id, before, batch)
            org_entries += moved
            totals += added
            if moved < batch:
                break
        if org_entries:
            orgs += 1
            entries += org_entries
    if entries:
        log.info("ledger compacted: %d entries of %d orgs before %s", entries, orgs, day)
    return Compacted(entries=entries, totals=totals, orgs=orgs)


def compact_expired_ledger(today: date | None = None) -> Compacted:
    """Compact the entries older than the retention (retention_cutoff)."""
    return compact_ledger_before(retention_cutoff(today), today=today)
