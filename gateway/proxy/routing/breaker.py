"""The circuit breaker of one deployment: closed, open, half-open (pure; no clock, no I/O).

    closed ──(failures/requests >= ratio, requests >= min, in the window)──► open
    open ──(cooldown passed)──► half-open: up to `probes` requests may try it
    half-open ──(a probe succeeds)──► closed, window counts reset
    half-open ──(a probe fails)──► open again, cooldown from now

Half-open is not stored: it is an open breaker whose cooldown has passed, so
every process agrees on it from (open, opened_ms) alone. The probes are
counted in Redis (lua/routing_probe.lua); this module only says who may ask.
An event ("open", "reopen", "close") is what a transition tells the other
processes, through health.py and lua/routing_sync.lua.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.proxy.routing.config import BreakerPolicy

Phase = Literal["closed", "open", "half_open"]
Event = Literal["open", "reopen", "close"]


def should_open(requests: int, failures: int, policy: BreakerPolicy) -> bool:
    """Return True when a closed breaker's window has failed enough to open it."""
    return requests >= policy.min_requests and failures >= policy.failure_ratio * requests


@dataclass(slots=True)
class Breaker:
    open: bool = False
    opened_ms: int = 0

    def phase(self, now_ms: int, policy: BreakerPolicy) -> Phase:
        if not self.open:
            return "closed"
        if now_ms >= self.opened_ms + policy.cooldown_ms:
            return "half_open"
        return "open"

    def on_failure(
        self, requests: int, failures: int, now_ms: int, policy: BreakerPolicy, probing: bool
    ) -> Event | None:
        """Take one failure (already in the counts); return the transition, if any."""
        if probing:
            self.open, self.opened_ms = True, now_ms
            return "reopen"
        if not self.open and should_open(requests, failures, policy):
            self.open, self.opened_ms = True, now_ms
            return "open"
        return None

    def on_success(self, probing: bool) -> Event | None:
        if probing and self.open:
            self.open = False
            return "close"
        return None

    def apply(self, event: Event, at_ms: int) -> None:
        """Apply a transition another process (or an unshared one of ours) made."""
        if event == "close":
            self.open = False
        elif event == "reopen":
            self.opened_ms = max(self.opened_ms, at_ms) if self.open else at_ms
            self.open = True
        elif not self.open:  # "open": the first opener's time stands
            self.open, self.opened_ms = True, at_ms
