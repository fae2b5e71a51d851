"""One request's failover: how many attempts, until when, the pauses, and what each attempt taught.

The upstream stage asks `before_retry()` before every attempt after the
first, and reports each attempt's end with `failed()` or `succeeded()`;
those feed this process's DeploymentHealth at once (breaker, latency,
retry-after), and the other processes at the next sync.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.shared.snapshot import DeploymentEntry

# Outcomes that say nothing about the deployment's health: our configuration
# (no key, a key the provider refuses, an address the SSRF rules refuse, an
# unsupported operation), not its service; the same rule as health pings'
# (providers.base KEY_REFUSED_STATUSES). A 429 is handled by its retry-after,
# not by the breaker.
NEUTRAL_OUTCOMES = frozenset(
    {
        "no_provider_key",
        "http_401",
        "http_403",
        "upstream_forbidden",
        "unsupported_by_provider",
        "deployment_misconfigured",
        "http_429",
    }
)


@dataclass(slots=True)
class Failover:
    org_id: str
    book: HealthBook
    config: RoutingConfig
    max_attempts: int | None = None
    deadline_at: float | None = None  # time.perf_counter() value; None = no deadline
    probing: set[str] = field(default_factory=set)  # deployment ids this request probes
    attempt_started: float = 0.0
    request_started: float = 0.0

    def started(self) -> None:
        self.attempt_started = time.perf_counter()

    async def before_retry(self, attempts_made: int) -> str | None:
        """Wait the jittered backoff before another attempt; or say why there is none."""
        if self.max_attempts is not None and attempts_made >= self.max_attempts:
            return f"the route's limit of {self.max_attempts} attempts was reached"
        pause = random.uniform(  # noqa: S311  # jitter, not a secret
            0, min(self.config.backoff_cap_s, self.config.backoff_base_s * 2 ** (attempts_made - 1))
        )
        if self.deadline_at is not None:
            left = self.deadline_at - time.perf_counter()
            if left <= pause:
                return "the route's deadline passed"
        if pause > 0:
            await asyncio.sleep(pause)
        return None

    def failed(
        self, deployment: DeploymentEntry, outcome: str, retry_after_s: float | None
    ) -> None:
        health = self.book.get(self.org_id, deployment["id"])
        now = now_ms()
        if outcome == "http_429" or retry_after_s is not None:
            wait = retry_after_s if retry_after_s is not None else self.config.default_retry_after_s
            health.record_retry_after(now + int(wait * 1000))
        if outcome in NEUTRAL_OUTCOMES:
            return
        probing = deployment["id"] in self.probing
        self.probing.discard(deployment["id"])
        health.record_failure(now, self.config.breaker, probing)

    def succeeded(self, deployment: DeploymentEntry, ttfb_ms: int | None, broken: bool) -> None:
        """Record a served answer; `ttfb_ms` is the request's, from its arrival.

        `broken`: the answer started but ended in an error event (a stream cut
        after its first bytes): the client saw a failure, so the breaker does too.
        """
        if broken:
            self.failed(deployment, "stream_broken", None)
            return
        health = self.book.get(self.org_id, deployment["id"])
        own_ttfb = None
        if ttfb_ms is not None and self.attempt_started:
            # The attempt's own time to first byte, without earlier attempts and stages.
            own_ttfb = ttfb_ms - int((self.attempt_started - self.request_started) * 1000)
            if own_ttfb < 0:  # the first byte was marked by an earlier attempt's answer
                own_ttfb = None
        probing = deployment["id"] in self.probing
        self.probing.discard(deployment["id"])
        health.record_success(own_ttfb, probing, self.config.ttfb_alpha)
