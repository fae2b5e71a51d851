"""manage.py rewrap_secrets: re-seal provider keys and PII keys under the first master key.

It lives in the PII policy app because that app sits above gateway (whose
provider keys and rewrap helpers it uses): from gateway it would be a cycle.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gateway.pii_policy.rewrap import rewrap_pii_secrets
from gateway.rewrap import BATCH_SIZE, rewrap_provider_keys


class Command(BaseCommand):
    help = (
        "Re-seal every provider key and PII pseudonymization key that is not sealed under the"
        " current (first) master key, then republish the affected orgs' snapshots."
        " Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        result = rewrap_provider_keys(batch_size=options["batch_size"])
        self.stdout.write(
            f"rewrapped {result.rewrapped} provider key(s) under master key"
            f" '{result.current_key_id}'; republished {len(result.orgs)} org(s);"
            f" {result.failed} failed"
        )
        pii = rewrap_pii_secrets(batch_size=options["batch_size"])
        self.stdout.write(
            f"rewrapped {pii.rewrapped} PII pseudonymization key(s); republished"
            f" {len(pii.orgs)} org(s); {pii.failed} failed"
        )
        if result.failed:
            raise CommandError(
                f"{result.failed} provider key(s) do not open under any configured master key;"
                " keep the old key configured and see the log for their ids."
            )
        if pii.failed:
            raise CommandError(
                f"{pii.failed} PII pseudonymization key(s) do not open under any configured"
                " master key; keep the old key configured and see the log for their org ids."
            )
