"""Periodic budget tasks: rebuild lost counters, reap dead reservations, reconcile."""

from __future__ import annotations

from celery import shared_task

from gateway.budgets import ledger

# Task names are what beat and queued messages carry: they keep the module the
# app had before it moved under gateway/, so a message queued by a running
# deployment still finds its task after an upgrade (and the beat schedule in
# config/settings.py names them so).


@shared_task(name="budgets.tasks.rebuild_lost_counters")
def rebuild_lost_counters() -> list[str]:
    """Every second: proxies refuse an org's budgeted requests until this has run."""
    return ledger.rebuild_lost_counters()


@shared_task(name="budgets.tasks.reap_expired_reservations")
def reap_expired_reservations() -> int:
    return ledger.reap_expired()


@shared_task(name="budgets.tasks.reconcile_counters")
def reconcile_counters() -> int:
    """Report (log) counters that differ from the ledger; return how many."""
    return len(ledger.reconcile())
