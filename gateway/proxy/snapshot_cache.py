"""The proxy's in-process cache of tenant snapshots, kept fresh by pub/sub and version checks.

A cached snapshot is trusted for `max_age` seconds; after that one HGET of
its version re-validates it. The pub/sub notice published with every change
drops the cached copy at once, so a revoked key is refused within
milliseconds, and within `max_age` even if the notice was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import orjson
from redis.asyncio.cluster import RedisCluster

from gateway.proxy.redis_client import AsyncRedisClient
from gateway.shared.safe_errors import describe
from gateway.shared.snapshot import CHANNEL, Snapshot, key_index_key, snapshot_key

log = logging.getLogger(__name__)
# Bound on remembered key → org mappings; a full map is simply cleared.
MAX_KEY_ENTRIES = 100_000


@dataclass
class _Cached:
    snapshot: Snapshot
    checked_at: float


class SnapshotCache:
    def __init__(self, client: AsyncRedisClient, max_age: float) -> None:
        self._redis = client
        self._max_age = max_age
        self._snapshots: dict[str, _Cached] = {}
        # The newest version announced per org: a fetch that returns an older
        # one raced with a publish and is not cached.
        self._announced: dict[str, int] = {}
        self._key_orgs: dict[str, str] = {}

    async def org_for_key(self, key_hash: str) -> str | None:
        """Return the org that issued the key with this hash (active or not: the snapshot says)."""
        org_id = self._key_orgs.get(key_hash)
        if org_id is not None:
            return org_id
        raw = await self._redis.get(key_index_key(key_hash))
        if raw is None:
            return None
        org_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        if len(self._key_orgs) >= MAX_KEY_ENTRIES:
            self._key_orgs.clear()
        self._key_orgs[key_hash] = org_id
        return org_id

    async def get(self, org_id: str) -> Snapshot | None:
        """Return the org's current snapshot, from memory when it is fresh enough."""
        cached = self._snapshots.get(org_id)
        now = time.monotonic()
        if cached is not None:
            if now - cached.checked_at < self._max_age:
                return cached.snapshot
            version = await self._redis.hget(snapshot_key(org_id), "version")
            if version is not None and int(version) == cached.snapshot["version"]:
                cached.checked_at = now
                return cached.snapshot
        raw = await self._redis.hget(snapshot_key(org_id), "body")
        if raw is None:
            self._snapshots.pop(org_id, None)
            return None
        snapshot: Snapshot = orjson.loads(raw)
        if snapshot["version"] >= self._announced.get(org_id, -1):
            self._snapshots[org_id] = _Cached(snapshot, now)
        return snapshot

    def invalidate(self, org_id: str, version: int) -> None:
        self._announced[org_id] = max(version, self._announced.get(org_id, -1))
        cached = self._snapshots.get(org_id)
        if cached is not None and cached.snapshot["version"] < version:
            del self._snapshots[org_id]

    def clear(self) -> None:
        self._snapshots.clear()

    async def listen(self) -> None:
        """Apply invalidation notices until cancelled; reconnect on errors."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                if isinstance(self._redis, RedisCluster):
                    # Learn the slot map first: a cluster pub/sub picks its
                    # node from it (any node hears every PUBLISH).
                    await self._redis.initialize()
                await pubsub.subscribe(CHANNEL)
                # Notices sent while we were not subscribed are lost: start clean.
                self.clear()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    org_id, _, version = message["data"].decode().rpartition(":")
                    with contextlib.suppress(ValueError):
                        self.invalidate(org_id, int(version))
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any Redis/network failure: retry, never die
                log.warning("snapshot listener lost its connection (%s); reconnecting", describe(e))
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
