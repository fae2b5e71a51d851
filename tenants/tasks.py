"""Periodic control-plane tasks for tenants."""

from __future__ import annotations

from celery import shared_task

from tenants.snapshots import republish_stale_snapshots


@shared_task
def republish_snapshots() -> int:
    """Publish every snapshot Redis lacks or holds in an older version."""
    return republish_stale_snapshots()
