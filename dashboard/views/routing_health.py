"""Routing health: each deployment's breaker, window counts, latency and last ping, live from Redis.

The proxies share this state through Redis (gateway/proxy/routing/sync.py);
the page reads it as it is now, one pipelined round trip of single-key
HGETALLs (every key carries the org's hash tag, so a Redis Cluster serves
them from one node). Only the org's own routes are listed, so only its keys
are read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.http import HttpRequest, HttpResponse

from config.redis import get_redis
from dashboard.decorators import org_view
from dashboard.views.common import render_org
from gateway.models import Deployment, Route
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import now_ms
from gateway.proxy.routing.ping import ping_key
from gateway.proxy.routing.report import HealthReport, read_report
from gateway.proxy.routing.sync import health_key
from tenants.models import Membership
from tenants.roles import Area
from tenants.scoping import for_org

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeploymentRow:
    deployment: Deployment
    report: HealthReport

    @staticmethod
    def _time(ms: int | None) -> datetime | None:
        return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None

    @property
    def since(self) -> datetime | None:
        return self._time(self.report.since_ms)

    @property
    def opened(self) -> datetime | None:
        return self._time(self.report.opened_ms)

    @property
    def retry_until(self) -> datetime | None:
        return self._time(self.report.retry_until_ms)

    @property
    def pinged_at(self) -> datetime | None:
        ping = self.report.last_ping
        return self._time(ping.at_ms) if ping else None

    @property
    def error_percent(self) -> float | None:
        ratio = self.report.error_ratio
        return None if ratio is None else ratio * 100


@org_view(Area.ROUTES)
def routing_health(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Show the shared health of every deployment of the org's routes."""
    org_id = str(membership.org.id)
    routes = list(
        for_org(Route.objects.prefetch_related("deployments"), membership.org).order_by("model")
    )
    deployments = [d for route in routes for d in route.deployments.all()]
    replies: list[Any] = []
    unavailable = False
    if deployments:
        try:
            pipe = get_redis().pipeline(transaction=False)
            for d in deployments:
                pipe.hgetall(health_key(org_id, d.snapshot_id))
                pipe.hgetall(ping_key(org_id, d.snapshot_id))
            replies = pipe.execute()
        except redis.RedisError:
            log.warning("routing health page: Redis unreachable")
            unavailable = True
    config = RoutingConfig.from_env(os.environ)
    now = now_ms()
    rows: dict[str, list[DeploymentRow]] = {}
    for index, d in enumerate(deployments):
        health, ping = (replies[2 * index], replies[2 * index + 1]) if replies else ({}, {})
        report = read_report(health or {}, ping or {}, now, config)
        rows.setdefault(str(d.route_id), []).append(DeploymentRow(d, report))
    context = {
        "routes": [(route, rows.get(str(route.id), [])) for route in routes],
        "unavailable": unavailable,
        "policy": config.breaker,
    }
    return render_org(
        request, membership, "dashboard/routing_health.html", context, section="routing-health"
    )
