"""What the budgets tell the apps above them, which the budgets do not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with client= (the Redis client) before the ledger is read as the truth
# (rebuild, reconcile): whoever holds settlements not yet in the ledger writes
# them now. The usage drain receives it (observability/apps.py); it writes into
# the ledger, so the ledger cannot import it without a cycle.
settlements_pending = Signal()
