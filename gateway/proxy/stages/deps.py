"""StageDeps: what the stages share, built once at startup and handed to each stage."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.proxy.budget.hold import Reservations
from gateway.proxy.config import ProxySettings
from gateway.proxy.keyring import Keyring
from gateway.proxy.pii.policy import PolicyCache
from gateway.proxy.pricing import PriceTable
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.proxy.routing.router import Router
from gateway.proxy.snapshot_cache import SnapshotCache
from gateway.proxy.trace.seal import TraceSealer
from gateway.proxy.upstream_client import UpstreamClient
from gateway.proxy.usage import UsageEmitter


@dataclass(frozen=True)
class StageDeps:
    settings: ProxySettings
    redis: AsyncRedisClient
    emitter: UsageEmitter
    snapshots: SnapshotCache
    router: Router
    policies: PolicyCache
    prices: PriceTable
    reservations: Reservations
    keyring: Keyring
    client: UpstreamClient
    traces: TraceSealer
