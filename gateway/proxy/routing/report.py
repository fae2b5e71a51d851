"""Read one deployment's shared health as people see it (the dashboard's Routing health page).

Read-only: the hash of lua/routing_health.lua and the last ping
(routing/ping.py), taken with HGETALL, summed here the way routing_health_read
sums them (buckets of the current window only), without deleting anything:
only the sync script, which the proxies run, changes the state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.proxy.routing.breaker import Phase
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.sync import BUCKETS

_BUCKET = re.compile(r"([nf]):(\d+)")


@dataclass(frozen=True, slots=True)
class LastPing:
    at_ms: int
    outcome: str
    latency_ms: int


@dataclass(frozen=True, slots=True)
class HealthReport:
    phase: Phase
    # Open: when it opened; half-open: when its cooldown ended; closed: None.
    since_ms: int | None
    # The last time it opened, whatever its phase now (0: never, or not in the last hour).
    opened_ms: int
    requests: int
    failures: int
    ttfb_ms: float | None  # moving average; None before the first measured answer
    samples: int
    retry_until_ms: int | None  # inside a 429's retry-after until then; None: not blocked
    last_ping: LastPing | None

    @property
    def error_ratio(self) -> float | None:
        return self.failures / self.requests if self.requests else None


def _text(fields: Mapping[bytes, bytes], name: str) -> str | None:
    value = fields.get(name.encode())
    return value.decode() if value is not None else None


def _number(fields: Mapping[bytes, bytes], name: str) -> float:
    value = _text(fields, name)
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def read_report(
    health: Mapping[bytes, bytes], ping: Mapping[bytes, bytes], now_ms: int, config: RoutingConfig
) -> HealthReport:
    """Summarise a deployment's hash and last ping (HGETALL replies) at `now_ms`."""
    window_ms = int(config.breaker.window_s * 1000)
    bucket_ms = max(window_ms // BUCKETS, 1)
    oldest = now_ms // bucket_ms - BUCKETS + 1
    requests = failures = 0
    for name, value in health.items():
        match = _BUCKET.fullmatch(name.decode(errors="replace"))
        if match is None or int(match.group(2)) < oldest:
            continue
        if match.group(1) == "n":
            requests += int(value)
        else:
            failures += int(value)
    opened = int(_number(health, "opened"))
    phase: Phase = "closed"
    since: int | None = None
    if _text(health, "open") == "1":
        cooldown_end = opened + config.breaker.cooldown_ms
        phase, since = ("open", opened) if now_ms < cooldown_end else ("half_open", cooldown_end)
    samples = int(_number(health, "samples"))
    retry = int(_number(health, "retry"))
    last_ping = None
    if ping:
        last_ping = LastPing(
            int(_number(ping, "at")), _text(ping, "outcome") or "", int(_number(ping, "latency_ms"))
        )
    return HealthReport(
        phase=phase,
        since_ms=since,
        opened_ms=opened,
        requests=requests,
        failures=failures,
        ttfb_ms=_number(health, "ttfb") if samples else None,
        samples=samples,
        retry_until_ms=retry if retry > now_ms else None,
        last_ping=last_ping,
    )
