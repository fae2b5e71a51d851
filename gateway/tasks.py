"""Periodic gateway tasks."""

from __future__ import annotations

from celery import shared_task

from gateway.health_pings import ping_opted_in_deployments


@shared_task
def ping_deployments() -> int:
    """Ping the deployments that opted in to health checks; return how many were pinged."""
    return len(ping_opted_in_deployments())
