"""Per-deployment health in this process: what all processes shared, plus what we saw since.

One DeploymentHealth per (org, deployment) this process routes to. The
`shared_*` fields are the merged state read back at the last sync (window
counts of every process, the TTFB moving average, the breaker, retry-after);
the `pending_*` fields are this process's deltas since then, which the next
sync pushes (sync.py). Routing reads both without I/O: the window counts it
judges are shared + pending, so a process sees its own failures at once and
the others' within one sync interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway.proxy.routing.breaker import Breaker, Event, Phase, should_open
from gateway.proxy.routing.config import BreakerPolicy

# Rows of the sync script: the deltas pushed, and the merged state read back.
Deltas = list[int | str]
# A deployment that failed but never answered has no TTFB: rank it as this slow.
UNMEASURED_FAILING_MS = 60_000.0
# Latency score = TTFB moving average x (1 + ERROR_PENALTY x error rate in the window).
ERROR_PENALTY = 10.0  # 10% errors double the score, 50% make it six times


def now_ms() -> int:
    """Wall-clock milliseconds: shared with other processes and machines, so not monotonic."""
    return int(time.time() * 1000)


@dataclass(slots=True)
class DeploymentHealth:
    org_id: str
    deployment_id: str
    shared_requests: int = 0
    shared_failures: int = 0
    ttfb_ms: float = 0.0  # moving average; meaningful when samples > 0
    samples: int = 0
    breaker: Breaker = field(default_factory=Breaker)
    retry_until_ms: int = 0
    pending_requests: int = 0
    pending_failures: int = 0
    pending_ttfb_sum: int = 0
    pending_ttfb_count: int = 0
    pending_event: Event | None = None
    pending_event_ms: int = 0
    pending_retry_until_ms: int = 0
    # Half-open: don't ask Redis for a probe again before this (ms); see sync.try_probe.
    probe_denied_until_ms: int = 0
    last_used_ms: int = field(default_factory=now_ms)

    @property
    def requests(self) -> int:
        return self.shared_requests + self.pending_requests

    @property
    def failures(self) -> int:
        return self.shared_failures + self.pending_failures

    def phase(self, now_ms: int, policy: BreakerPolicy) -> Phase:
        return self.breaker.phase(now_ms, policy)

    def blocked_until_ms(self, policy: BreakerPolicy) -> int:
        """When this deployment may be tried again (a past time: now)."""
        until = self.retry_until_ms
        if self.breaker.open:
            until = max(until, self.breaker.opened_ms + policy.cooldown_ms)
        return until

    def latency_score(self) -> float:
        """Lower is better; a deployment never tried scores 0 so that it gets measured."""
        requests = self.requests
        if self.samples:
            base = self.ttfb_ms
        elif requests:
            base = UNMEASURED_FAILING_MS
        else:
            return 0.0
        if not requests:
            return base
        return base * (1.0 + ERROR_PENALTY * self.failures / requests)

    # What an attempt tells us.

    def record_success(self, ttfb_ms: int | None, probing: bool, alpha: float) -> None:
        event = self.breaker.on_success(probing)
        if event is not None:
            self._closed()
            self._remember(event, 0)
        self.pending_requests += 1
        if ttfb_ms is not None:
            ttfb_ms = max(ttfb_ms, 0)
            self.pending_ttfb_sum += ttfb_ms
            self.pending_ttfb_count += 1
            self.ttfb_ms = (
                ttfb_ms if not self.samples else self.ttfb_ms + alpha * (ttfb_ms - self.ttfb_ms)
            )
            self.samples += 1

    def record_failure(self, now_ms: int, policy: BreakerPolicy, probing: bool) -> None:
        self.pending_requests += 1
        self.pending_failures += 1
        event = self.breaker.on_failure(self.requests, self.failures, now_ms, policy, probing)
        if event is not None:
            self._remember(event, now_ms)

    def judge(self, now_ms: int, policy: BreakerPolicy) -> None:
        """Open a closed breaker whose merged window has failed enough (after a sync).

        A process's own last failure may have come before the others' reached
        it; without this the breaker would wait for the next failure to open.
        """
        if not self.breaker.open and should_open(self.requests, self.failures, policy):
            self.breaker.open, self.breaker.opened_ms = True, now_ms
            self._remember("open", now_ms)

    def record_retry_after(self, until_ms: int) -> None:
        self.retry_until_ms = max(self.retry_until_ms, until_ms)
        self.pending_retry_until_ms = max(self.pending_retry_until_ms, until_ms)

    def _closed(self) -> None:
        # A closed breaker starts a fresh window, here and (through "close") in Redis.
        self.shared_requests = self.shared_failures = 0
        self.pending_requests = self.pending_failures = 0

    def _remember(self, event: Event, at_ms: int) -> None:
        self.pending_event, self.pending_event_ms = event, at_ms

    # The sync's side (sync.py).

    def take_deltas(self) -> Deltas:
        """Return this process's deltas for lua/routing_sync.lua and start new ones."""
        row: Deltas = [
            self.pending_requests,
            self.pending_failures,
            self.pending_ttfb_sum,
            self.pending_ttfb_count,
            self.pending_event or "",
            self.pending_event_ms,
            self.pending_retry_until_ms,
        ]
        self.pending_requests = self.pending_failures = 0
        self.pending_ttfb_sum = self.pending_ttfb_count = 0
        self.pending_event, self.pending_event_ms = None, 0
        self.pending_retry_until_ms = 0
        return row

    def merge(
        self,
        requests: int,
        failures: int,
        ttfb_us: int,
        samples: int,
        is_open: bool,
        opened_ms: int,
        retry_until_ms: int,
    ) -> None:
        """Take the merged state; a transition made during the sync still stands here."""
        self.shared_requests, self.shared_failures = requests, failures
        if samples:
            self.ttfb_ms, self.samples = ttfb_us / 1000, samples
        self.breaker.open, self.breaker.opened_ms = is_open, opened_ms
        self.retry_until_ms = max(retry_until_ms, self.pending_retry_until_ms)
        if self.pending_event is not None:
            self.breaker.apply(self.pending_event, self.pending_event_ms)
            if self.pending_event == "close":
                self.shared_requests = self.shared_failures = 0


class HealthBook:
    """Every DeploymentHealth of this process, by (org id, deployment id)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], DeploymentHealth] = {}

    def get(self, org_id: str, deployment_id: str) -> DeploymentHealth:
        key = (org_id, deployment_id)
        found = self.entries.get(key)
        if found is None:
            found = self.entries[key] = DeploymentHealth(org_id, deployment_id)
        return found

    def known(self, org_id: str, deployment_id: str) -> bool:
        return (org_id, deployment_id) in self.entries

    def by_org(self) -> dict[str, list[DeploymentHealth]]:
        grouped: dict[str, list[DeploymentHealth]] = {}
        for health in self.entries.values():
            grouped.setdefault(health.org_id, []).append(health)
        return grouped

    def forget_idle(self, before_ms: int) -> None:
        """Drop deployments not routed to since `before_ms` and with nothing left to share."""
        for key, health in list(self.entries.items()):
            if health.last_used_ms < before_ms and not health.pending_requests:
                del self.entries[key]
