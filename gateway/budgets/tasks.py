"""Periodic budget tasks: rebuild lost counters, reap dead reservations, reconcile."""

from __future__ import annotations

from celery import shared_task

from budgets import ledger


@shared_task
def rebuild_lost_counters() -> list[str]:
    """Every second: proxies refuse an org's budgeted requests until this has run."""
    return ledger.rebuild_lost_counters()


@shared_task
def reap_expired_reservations() -> int:
    return ledger.reap_expired()


@shared_task
def reconcile_counters() -> int:
    """Report (log) counters that differ from the ledger; return how many."""
    return len(ledger.reconcile())
