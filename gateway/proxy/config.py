"""The proxy's settings, read from the environment once at start (never from Django).

ProxySettings.from_env is the one place the proxy reads its environment;
everything else is handed what it needs from here when the app starts
(gateway.proxy.app). The variables, their defaults and what they do are
listed in docs/API.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.proxy.keyring import platform_keys_from
from gateway.proxy.lua_scripts import script_flags_from
from gateway.proxy.pricing.table import EXTRA_PRICES_VARIABLE
from gateway.proxy.routing.config import RoutingConfig


@dataclass(frozen=True)
class ProxySettings:
    redis_url: str
    hash_key: bytes = field(repr=False)
    # REDIS_URL names one node of a Redis Cluster (SELIXES_REDIS_CLUSTER=1).
    redis_cluster: bool = False
    max_body_bytes: int = 10 * 1024 * 1024
    # A cached snapshot older than this is re-validated against Redis (one GET
    # of its version), bounding staleness even if a pub/sub notice was lost.
    snapshot_max_age_s: float = 1.0
    # CONTRACT.md section 2: "deny" keeps tenants' api_base off private networks.
    allow_private_upstreams: bool = False
    # A reservation not settled by then is charged at its estimate by the
    # reaper (its proxy died). Longer than any request may run.
    reservation_ttl_s: float = 900.0
    # CONTRACT.md section 5: metrics on their own port, loopback unless the
    # operator opens it (to a private network); port 0 serves none.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9091
    # PROMETHEUS_MULTIPROC_DIR: where every worker's counters meet ("" = this
    # process's alone). prometheus-client reads it too, at import, for its files.
    metrics_multiproc_dir: str = ""
    # SELIXES_MASTER_KEYS: opens BYOK provider keys and pseudonymization secrets.
    master_keys: str = field(default="", repr=False)
    # SELIXES_PLATFORM_KEY_<PROVIDER>, by lower-case provider: managed access.
    platform_keys: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    # SELIXES_PRICES: a price file merged over the shipped one ("" = none).
    extra_prices: str = ""
    # SELIXES_REDIS_SCRIPT_FLAGS: the first line of every Lua script ("" = none).
    redis_script_flags: str = ""
    # SELIXES_BREAKER_*, SELIXES_ROUTING_SYNC_S, SELIXES_LATENCY_EXPLORATION.
    routing: RoutingConfig = field(default_factory=RoutingConfig)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ProxySettings:
        def need(name: str) -> str:
            value = environ.get(name)
            if not value:
                raise RuntimeError(f"{name} must be set (see infra/.env.example)")
            return value

        return cls(
            redis_url=need("REDIS_URL"),
            hash_key=need("SELIXES_HASH_KEY").encode(),
            redis_cluster=redis_cluster_from_env(environ),
            max_body_bytes=int(environ.get("SELIXES_PROXY_MAX_BODY_BYTES") or 10 * 1024 * 1024),
            snapshot_max_age_s=float(environ.get("SELIXES_SNAPSHOT_MAX_AGE_S") or 1.0),
            allow_private_upstreams=_private_upstreams(environ),
            reservation_ttl_s=float(environ.get("SELIXES_RESERVATION_TTL_S") or 900.0),
            metrics_host=environ.get("SELIXES_METRICS_HOST") or "127.0.0.1",
            metrics_port=int(environ.get("SELIXES_METRICS_PORT") or 9091),
            metrics_multiproc_dir=environ.get("PROMETHEUS_MULTIPROC_DIR") or "",
            master_keys=environ.get("SELIXES_MASTER_KEYS") or "",
            platform_keys=platform_keys_from(environ),
            extra_prices=environ.get(EXTRA_PRICES_VARIABLE) or "",
            redis_script_flags=script_flags_from(environ),
            routing=RoutingConfig.from_env(environ),
        )


def _private_upstreams(environ: Mapping[str, str]) -> bool:
    value = environ.get("SELIXES_PRIVATE_UPSTREAMS") or "deny"
    if value not in ("deny", "allow"):
        raise RuntimeError("SELIXES_PRIVATE_UPSTREAMS must be 'deny' or 'allow'")
    return value == "allow"


def redis_cluster_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """SELIXES_REDIS_CLUSTER: is REDIS_URL one node of a Redis Cluster? (web reads it too)."""
    value = (environ.get("SELIXES_REDIS_CLUSTER") or "0").lower()
    if value not in ("0", "1", "false", "true"):
        raise RuntimeError("SELIXES_REDIS_CLUSTER must be 0 or 1")
    return value in ("1", "true")
