"""manage.py budget_reconcile: compare Redis budget counters with the ledger, print the drift.

The worker runs the same comparison every ten minutes (gateway.budgets.tasks) and
logs it; this is for an operator who wants the answer now. Exit status 1
when any counter drifted.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError

from gateway.budgets.ledger import reconcile


class Command(BaseCommand):
    help = "Compare every current budget counter in Redis with the ledger; print differences."

    def handle(self, *args: Any, **options: Any) -> None:
        drifts = reconcile()
        for drift in drifts:
            line = {
                "org_id": drift.org_id,
                "counter": drift.label,
                "redis_spent_nano": drift.redis_spent,
                "ledger_spent_nano": drift.ledger_spent,
                "drift_nano": drift.nano,
            }
            self.stdout.write(orjson.dumps(line).decode())
        if drifts:
            raise CommandError(f"{len(drifts)} budget counters differ from the ledger.")
        self.stdout.write("No drift: every budget counter matches the ledger.")
