"""Periodic observability tasks."""

from __future__ import annotations

from celery import shared_task

from observability.data_keys import create_keys_ahead
from observability.drain import drain_usage_stream


@shared_task
def drain_usage() -> int:
    """Move the proxy's usage events into the request log."""
    return drain_usage_stream()


@shared_task
def create_data_keys_ahead() -> int:
    """Create today's and the next days' trace keys of every org keeping traces; republish them."""
    return create_keys_ahead()
