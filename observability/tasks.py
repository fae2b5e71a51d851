"""Periodic observability tasks."""

from __future__ import annotations

from celery import shared_task

from observability.drain import drain_usage_stream


@shared_task
def drain_usage() -> int:
    """Move the proxy's usage events into the request log."""
    return drain_usage_stream()
