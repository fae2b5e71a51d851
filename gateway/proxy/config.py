"""The proxy's settings, read from the environment once at start (never from Django)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProxySettings:
    redis_url: str
    hash_key: bytes
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

    @classmethod
    def from_env(cls) -> ProxySettings:
        def need(name: str) -> str:
            value = os.environ.get(name)
            if not value:
                raise RuntimeError(f"{name} must be set (see infra/.env.example)")
            return value

        return cls(
            redis_url=need("REDIS_URL"),
            hash_key=need("SELIXES_HASH_KEY").encode(),
            redis_cluster=redis_cluster_from_env(),
            max_body_bytes=int(os.environ.get("SELIXES_PROXY_MAX_BODY_BYTES") or 10 * 1024 * 1024),
            snapshot_max_age_s=float(os.environ.get("SELIXES_SNAPSHOT_MAX_AGE_S") or 1.0),
            allow_private_upstreams=_private_upstreams(),
            reservation_ttl_s=float(os.environ.get("SELIXES_RESERVATION_TTL_S") or 900.0),
            metrics_host=os.environ.get("SELIXES_METRICS_HOST") or "127.0.0.1",
            metrics_port=int(os.environ.get("SELIXES_METRICS_PORT") or 9091),
        )


def _private_upstreams() -> bool:
    value = os.environ.get("SELIXES_PRIVATE_UPSTREAMS") or "deny"
    if value not in ("deny", "allow"):
        raise RuntimeError("SELIXES_PRIVATE_UPSTREAMS must be 'deny' or 'allow'")
    return value == "allow"


def redis_cluster_from_env() -> bool:
    """SELIXES_REDIS_CLUSTER: is REDIS_URL one node of a Redis Cluster? (web reads it too)."""
    value = (os.environ.get("SELIXES_REDIS_CLUSTER") or "0").lower()
    if value not in ("0", "1", "false", "true"):
        raise RuntimeError("SELIXES_REDIS_CLUSTER must be 0 or 1")
    return value in ("1", "true")
