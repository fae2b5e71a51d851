"""Routing's gauges for /metrics: breaker state, TTFB moving average and error ratio per deployment.

Plus `selixes_breakers{state}`: how many deployments are closed, open and
half-open, the bounded view a dashboard plots.

The label is the deployment id ("<route uuid>:<position>"): no org id, key or
model name. Deployment ids grow with tenants, so one process exports at
most MAX_SERIES deployments, the most recently routed to, plus the count of
all it tracks; a scraper sees the hot ones and the size of the rest.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.proxy.routing.breaker import Phase
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms

MAX_SERIES = 100
_PHASES: dict[Phase, int] = {"closed": 0, "open": 1, "half_open": 2}


class RoutingGauges(Collector):
    """Read at every scrape from the process's health book (its merged, shared view)."""

    def __init__(self, book: HealthBook, config: RoutingConfig) -> None:
        self.book = book
        self.config = config

    def collect(self) -> Iterator[Metric]:
        now = now_ms()
        healths = sorted(self.book.entries.values(), key=lambda h: h.last_used_ms, reverse=True)
        tracked = GaugeMetricFamily(
            "selixes_routing_deployments", "Deployments this process tracks."
        )
        tracked.add_metric([], len(healths))
        # All tracked deployments by phase: three series, whatever the number of tenants.
        phases = [health.phase(now, self.config.breaker) for health in healths]
        by_phase = GaugeMetricFamily(
            "selixes_breakers",
            "Deployments this process tracks, by breaker state.",
            labels=["state"],
        )
        for phase in _PHASES:
            by_phase.add_metric([phase], phases.count(phase))
        state = GaugeMetricFamily(
            "selixes_deployment_breaker_state",
            "0 closed, 1 open, 2 half-open.",
            labels=["deployment"],
        )
        ttfb = GaugeMetricFamily(
            "selixes_deployment_ttfb_ms",
            "Moving average of time to first byte (all processes).",
            labels=["deployment"],
        )
        errors = GaugeMetricFamily(
            "selixes_deployment_error_ratio",
            "Failed share of requests in the breaker window.",
            labels=["deployment"],
        )
        for health, phase in zip(healths[:MAX_SERIES], phases, strict=False):
            label = [health.deployment_id]
            state.add_metric(label, _PHASES[phase])
            if health.samples:
                ttfb.add_metric(label, round(health.ttfb_ms, 1))
            if health.requests:
                errors.add_metric(label, round(health.failures / health.requests, 3))
        yield from (tracked, by_phase, state, ttfb, errors)
