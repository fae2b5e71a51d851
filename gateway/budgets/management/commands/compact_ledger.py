"""manage.py compact_ledger: fold ledger entries older than a day into per-day totals.

The retention purge runs the same compaction with its own cutoff
(gateway.budgets.compaction); this is for an operator who wants it now, or
for a cutoff of their own. Prints one JSON object with what was done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.budgets.compaction import compact_ledger_before, retention_cutoff


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before takes a day as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Fold every ledger entry that occurred before a day (00:00 UTC) into per-counter,"
        " per-day totals and delete the entries. Idempotent; an interrupted run is resumed"
        " by running it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            type=str,
            default=None,
            help="YYYY-MM-DD; default: today (UTC) minus SELIXES_RETENTION_DAYS.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        before = _day(options["before"]) if options["before"] else retention_cutoff()
        try:
            done = compact_ledger_before(before)
        except ValueError as e:
            raise CommandError(str(e)) from None
        line = {
            "before": before.isoformat(),
            "entries_compacted": done.entries,
            "day_totals_written": done.totals,
            "orgs": done.orgs,
        }
        self.stdout.write(orjson.dumps(line).decode())
