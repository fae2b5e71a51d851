"""The retention purge: nothing per request outlives settings.RETENTION_DAYS (CONTRACT.md s. 6).

cutoff = today (UTC) - RETENTION_DAYS; a day before the cutoff is purged.
The steps run in this order, each idempotent, so a purge killed half-way is
finished by the next run (beat runs it daily; `manage.py purge_expired` runs
it now):

a. shred_data_keys: delete the DataKey rows of those days. From here on their
   traces cannot be opened, whether or not their rows are gone yet; this
   comes first so that no step that fails later can leave a readable trace
   behind its partition's retention.
b. compact_ledger: the ledger's per-request entries of those days become
   per-scope, per-day totals (gateway.budgets.compaction).
c. drop_expired_partitions: the request log's and the traces' partitions of
   those days are dropped whole.

Rollups are per-day totals that name no request: they are kept ROLLUP_DAYS
(the usage API's longest window) and pruned after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gateway.budgets.compaction import compact_ledger_before
from observability import partitions
from observability.models import DataKey, UsageRollup

# GET /api/v1/usage/ answers windows of at most 400 days.
ROLLUP_DAYS = 400


@dataclass(frozen=True)
class PurgeReport:
    cutoff: date
    data_keys_shredded: int
    ledger_entries_compacted: int
    partitions_dropped: list[str]
    rollups_pruned: int


def shred_data_keys(cutoff: date) -> int:
    """(a) Delete the data keys of the days before the cutoff; return how many."""
    deleted, _ = DataKey.objects.filter(day__lt=cutoff).delete()
    return deleted


def compact_ledger(cutoff: date, today: date) -> int:
    """(b) Fold the ledger entries of the days before the cutoff into per-day totals.

    gateway.budgets.compaction: each batch moves entries into the totals in
    one statement, so a purge killed here is resumed without counting an
    entry twice. Returns how many entries were folded.
    """
    return compact_ledger_before(cutoff, today=today).entries


def drop_expired_partitions(cutoff: date) -> list[str]:
    """(c) Drop the request-log and trace partitions of the days before the cutoff."""
    return partitions.drop_partitions_before(cutoff)


def prune_rollups(today: date) -> int:
    """Delete the rollups older than ROLLUP_DAYS; return how many rows went."""
    deleted, _ = UsageRollup.objects.filter(day__lt=today - timedelta(days=ROLLUP_DAYS)).delete()
    return deleted


def purge_expired(today: date | None = None) -> PurgeReport:
    """Run every step of the purge for `today` (UTC; default: now), in order."""
    today = today or partitions.today_utc()
    cutoff = partitions.retention_cutoff(today)
    shredded = shred_data_keys(cutoff)
    compacted = compact_ledger(cutoff, today)
    dropped = drop_expired_partitions(cutoff)
    pruned = prune_rollups(today)
    return PurgeReport(cutoff, shredded, compacted, dropped, pruned)
