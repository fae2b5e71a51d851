"""Routing defaults, from the environment once per process (route fields override some).

The proxy reads them in ProxySettings.from_env; the worker's health pings and
the dashboard pass their own environment, which must say the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def _env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    value = environ.get(name)
    return float(value) if value else default


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a deployment's circuit opens, and how it closes again."""

    # Open when failures / requests in the window reach this, with at least min_requests.
    failure_ratio: float = 0.5
    min_requests: int = 10
    window_s: float = 30.0
    # Open for this long, then half-open: up to `probes` requests may try it.
    cooldown_s: float = 30.0
    probes: int = 1

    @property
    def cooldown_ms(self) -> int:
        return int(self.cooldown_s * 1000)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    breaker: BreakerPolicy = BreakerPolicy()
    # How often each process shares its deltas and reads the merged state.
    sync_interval_s: float = 0.5
    # Latency strategy: the share of requests that try a deployment other than the best.
    exploration: float = 0.05
    # Weight of one TTFB sample in the moving average (exponential, per sample).
    ttfb_alpha: float = 0.3
    # A 429 without retry-after keeps the deployment out this long.
    default_retry_after_s: float = 1.0
    # Jittered backoff before a retry: uniform(0, min(cap, base * 2**(retry - 1))).
    backoff_base_s: float = 0.025
    backoff_cap_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RoutingConfig:
        """The defaults above, each replaced by its variable where one is set."""
        policy, config = BreakerPolicy(), cls()
        breaker = BreakerPolicy(
            failure_ratio=_env_float(
                environ, "SELIXES_BREAKER_FAILURE_RATIO", policy.failure_ratio
            ),
            min_requests=_env_int(environ, "SELIXES_BREAKER_MIN_REQUESTS", policy.min_requests),
            window_s=_env_float(environ, "SELIXES_BREAKER_WINDOW_S", policy.window_s),
            cooldown_s=_env_float(environ, "SELIXES_BREAKER_COOLDOWN_S", policy.cooldown_s),
            probes=_env_int(environ, "SELIXES_BREAKER_PROBES", policy.probes),
        )
        if not 0 < breaker.failure_ratio <= 1 or breaker.min_requests < 1 or breaker.probes < 1:
            raise RuntimeError("SELIXES_BREAKER_* out of range")
        if breaker.window_s <= 0 or breaker.cooldown_s < 0:
            raise RuntimeError("SELIXES_BREAKER_WINDOW_S and _COOLDOWN_S must be positive")
        config = cls(
            breaker=breaker,
            sync_interval_s=_env_float(environ, "SELIXES_ROUTING_SYNC_S", config.sync_interval_s),
            exploration=_env_float(environ, "SELIXES_LATENCY_EXPLORATION", config.exploration),
        )
        if config.sync_interval_s <= 0 or not 0 <= config.exploration <= 1:
            raise RuntimeError(
                "SELIXES_ROUTING_SYNC_S > 0 and 0 <= SELIXES_LATENCY_EXPLORATION <= 1"
            )
        return config
