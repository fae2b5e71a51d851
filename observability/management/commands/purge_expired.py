"""`manage.py purge_expired [--today YYYY-MM-DD]`: run the retention purge now."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from observability.partitions import ensure_ahead, today_utc
from observability.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Shred the data keys and drop the request-log and trace partitions of the days past"
        " SELIXES_RETENTION_DAYS, prune rollups past 400 days, and create the partitions ahead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="the UTC day to purge as of (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else today_utc()
        except ValueError as e:
            raise CommandError("--today must be a date, YYYY-MM-DD") from e
        report = purge_expired(today)
        created = ensure_ahead(today)
        self.stdout.write(f"cutoff {report.cutoff}: days before it are purged")
        self.stdout.write(f"data keys shredded: {report.data_keys_shredded}")
        self.stdout.write(f"ledger entries compacted: {report.ledger_entries_compacted}")
        self.stdout.write(f"partitions dropped: {len(report.partitions_dropped)}")
        for name in report.partitions_dropped:
            self.stdout.write(f"  {name}")
        self.stdout.write(f"rollup rows pruned: {report.rollups_pruned}")
        self.stdout.write(f"partitions created ahead: {len(created)}")
