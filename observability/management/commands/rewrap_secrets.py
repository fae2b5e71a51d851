"""manage.py rewrap_secrets: re-seal provider, PII and trace data keys under the first master key.

It lives in the observability app because that app sits above gateway and
gateway.pii_policy (whose rewrap helpers it runs) in the layers of
pyproject.toml: from either of those it would be a cycle.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from gateway.pii_policy.rewrap import rewrap_pii_secrets
from gateway.rewrap import BATCH_SIZE, rewrap_provider_keys
from observability.data_keys import rewrap_data_keys


class Command(BaseCommand):
    help = (
        "Re-seal every provider key, PII pseudonymization key and trace data key that is not"
        " sealed under the current (first) master key, then republish the affected orgs'"
        " snapshots. Safe to run again."
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
        data = rewrap_data_keys(batch_size=options["batch_size"])
        self.stdout.write(
            f"rewrapped {data.rewrapped} trace data key(s); republished"
            f" {len(data.orgs)} org(s); {data.failed} failed"
        )
        failed = [
            (result.failed, "provider key(s)", "their ids"),
            (pii.failed, "PII pseudonymization key(s)", "their org ids"),
            (data.failed, "trace data key(s)", "their ids"),
        ]
        for count, what, where in failed:
            if count:
                raise CommandError(
                    f"{count} {what} do not open under any configured master key;"
                    f" keep the old key configured and see the log for {where}."
                )
