"""Routing's gauges for /metrics: breaker state, TTFB moving average and error ratio per deployment.

The label is the deployment id ("<route uuid>:<position>"): no org id, key or
model name. Deployment ids grow with tenants, so one process exports at
most MAX_SERIES deployments, the most recently routed to, plus the count of
all it tracks; a scraper sees the hot ones and the size of the rest.
"""

from __future__ import annotations

from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms

MAX_SERIES = 100
_PHASES = {"closed": 0, "open": 1, "half_open": 2}


def gauge_lines(book: HealthBook, config: RoutingConfig) -> list[str]:
    now = now_ms()
    policy = config.breaker
    healths = sorted(book.entries.values(), key=lambda h: h.last_used_ms, reverse=True)
    lines = [
        "# HELP selixes_routing_deployments Deployments this process tracks.",
        "# TYPE selixes_routing_deployments gauge",
        f"selixes_routing_deployments {len(healths)}",
        "# HELP selixes_deployment_breaker_state 0 closed, 1 open, 2 half-open.",
        "# TYPE selixes_deployment_breaker_state gauge",
    ]
    shown = healths[:MAX_SERIES]
    for health in shown:
        phase = _PHASES[health.phase(now, policy)]
        lines.append(
            f'selixes_deployment_breaker_state{{deployment="{health.deployment_id}"}} {phase}'
        )
    lines += [
        "# HELP selixes_deployment_ttfb_ms Moving average of time to first byte (all processes).",
        "# TYPE selixes_deployment_ttfb_ms gauge",
    ]
    for health in shown:
        if health.samples:
            label = f'deployment="{health.deployment_id}"'
            lines.append(f"selixes_deployment_ttfb_ms{{{label}}} {health.ttfb_ms:.1f}")
    lines += [
        "# HELP selixes_deployment_error_ratio Failed share of requests in the breaker window.",
        "# TYPE selixes_deployment_error_ratio gauge",
    ]
    for health in shown:
        if health.requests:
            ratio = health.failures / health.requests
            label = f'deployment="{health.deployment_id}"'
            lines.append(f"selixes_deployment_error_ratio{{{label}}} {ratio:.3f}")
    return lines
