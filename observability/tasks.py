"""Periodic observability tasks (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import OperationalError

from observability import partitions
from observability.data_keys import create_keys_ahead
from observability.drain import drain_usage_stream
from observability.retention import purge_expired
from observability.worker_metrics import DRAIN_ROWS


@shared_task
def drain_usage() -> int:
    """Move the proxy's usage events into the request log."""
    written = drain_usage_stream()
    DRAIN_ROWS.inc(written)
    return written


@shared_task
def create_data_keys_ahead() -> int:
    """Create today's and the next days' trace keys of every org keeping traces; republish them."""
    return create_keys_ahead()


def _day(today: str | None) -> date:
    return date.fromisoformat(today) if today else partitions.today_utc()


# A partition's DDL gives up after partitions.LOCK_TIMEOUT behind a long
# reader: tried again a few minutes later rather than waiting for the next run.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=10)
def create_partitions_ahead(today: str | None = None) -> list[str]:
    """Create the day partitions of the retention window and AHEAD_DAYS past today.

    `today` ("YYYY-MM-DD", UTC) is for tests and operators; beat passes none.
    """
    return partitions.ensure_ahead(_day(today))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=10)
def purge_expired_data(today: str | None = None) -> dict[str, object]:
    """Shred the expired days' data keys and drop their partitions (observability.retention)."""
    report = purge_expired(_day(today))
    return {
        "cutoff": report.cutoff.isoformat(),
        "data_keys_shredded": report.data_keys_shredded,
        "ledger_entries_compacted": report.ledger_entries_compacted,
        "partitions_dropped": report.partitions_dropped,
        "rollups_pruned": report.rollups_pruned,
    }
