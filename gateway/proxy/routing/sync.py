"""Share deployment health between proxy processes through Redis, off the request path.

Every SYNC_INTERVAL each process runs lua/routing_sync.lua once per org it
routes for, pipelined: the script adds the process's deltas (window counts,
TTFB samples, breaker transitions, retry-after) and returns the merged state,
which replaces the process's copy. A request never waits on it. If Redis is
away, each process goes on with what it sees itself (the deltas taken for a
failed sync are lost: they only sharpen the shared picture, they are not money).

Times in the shared state (a breaker's opened_ms, a retry-after) are wall-clock
milliseconds from the process that set them: machines must keep their clocks
in step (NTP); a skew of s seconds moves a cooldown's end by s seconds.

Redis layout (every key carries the org's hash tag, DESIGN.md):
  sel:{<org_id>}:rt:<deployment id>          hash, see lua/routing_sync.lua
  sel:{<org_id>}:rt:<deployment id>:probe    half-open probes taken (lua/routing_probe.lua)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import lru_cache
from typing import Literal

import orjson
from redis.exceptions import RedisError

from gateway.proxy.lua_scripts import (
    LuaScript,
    ScriptArg,
    ScriptCall,
    rerun_unknown_scripts,
    run_script,
    script_command,
)
from gateway.proxy.redis_client import AsyncRedisClient, send_batch
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import DeploymentHealth, HealthBook, now_ms
from gateway.shared.safe_errors import describe

log = logging.getLogger(__name__)
# The longest a shutdown waits for the sync task to stop, and again for its last sync.
CLOSE_WAIT_S = 3.0
# Windows are counted in this many buckets.
BUCKETS = 6
# A deployment's shared state is dropped after an hour without any process syncing it.
IDLE_MS = 3_600_000
# A process forgets a deployment it has not routed to for this long.
FORGET_AFTER_MS = 600_000
# A probe that never reports back (its request stopped short of it, its process
# died) holds its slot for the cooldown, and at least this long.
PROBE_SLOT_MIN_MS = 5_000
# At most this many deployments per script call (KEYS stay bounded).
MAX_PER_CALL = 64


# By SELIXES_REDIS_SCRIPT_FLAGS: one value per process.
@lru_cache(maxsize=2)
def sync_script(flags: str = "") -> LuaScript:
    return LuaScript.from_files("routing_health", "routing_sync", flags=flags)


@lru_cache(maxsize=2)
def probe_script(flags: str = "") -> LuaScript:
    return LuaScript.from_files("routing_probe", flags=flags)


def health_key(org_id: str, deployment_id: str) -> str:
    return f"sel:{{{org_id}}}:rt:{deployment_id}"


def probe_key(org_id: str, deployment_id: str) -> str:
    return f"sel:{{{org_id}}}:rt:{deployment_id}:probe"


class HealthSync:
    """The background task of one process, and the half-open probe grant."""

    def __init__(
        self,
        client: AsyncRedisClient,
        book: HealthBook,
        config: RoutingConfig,
        script_flags: str = "",
    ) -> None:
        self.client = client
        self.book = book
        self.config = config
        self.script_flags = script_flags  # SELIXES_REDIS_SCRIPT_FLAGS
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="routing-health-sync")

    async def close(self) -> None:
        """Stop the task and push the last deltas; bounded, so a shutdown never hangs here."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            # A cancel that lands while a Redis read times out can come back as
            # a TimeoutError (asyncio.timeout on Python 3.11), which _run logs
            # and would loop on, so a plain await could wait forever (seen as
            # a proxy that never exits on SIGTERM). _closing ends the loop;
            # the wait is bounded all the same.
            await asyncio.wait({self._task}, timeout=CLOSE_WAIT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sync_once(), CLOSE_WAIT_S)

    async def _run(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.config.sync_interval_s)
            try:
                await self.sync_once()
            except Exception as e:
                log.warning("routing health sync failed: %s", describe(e))

    async def sync_once(self) -> None:
        """Push every deployment's deltas and read the merged state: one pipelined round trip."""
        now = now_ms()
        self.book.forget_idle(now - FORGET_AFTER_MS)
        await self._sync(list(self.book.by_org().values()), now)

    async def load(self, entries: list[DeploymentHealth]) -> None:
        """Read the shared state of deployments this process has just met (one round trip)."""
        grouped: dict[str, list[DeploymentHealth]] = {}
        for health in entries:
            grouped.setdefault(health.org_id, []).append(health)
        await self._sync(list(grouped.values()), now_ms())

    async def _sync(self, groups: list[list[DeploymentHealth]], now: int) -> None:
        batches: list[list[DeploymentHealth]] = []
        for group in groups:
            for start in range(0, len(group), MAX_PER_CALL):
                batches.append(group[start : start + MAX_PER_CALL])
        if not batches:
            return
        script = sync_script(self.script_flags)
        window_ms = int(self.config.breaker.window_s * 1000)
        bucket_ms = max(window_ms // BUCKETS, 1)
        calls: list[ScriptCall] = []
        for batch in batches:
            keys = [health_key(h.org_id, h.deployment_id) for h in batch]
            keys += [probe_key(h.org_id, h.deployment_id) for h in batch]
            rows = [h.take_deltas() for h in batch]
            args: list[ScriptArg] = [
                now,
                bucket_ms,
                BUCKETS,
                str(self.config.ttfb_alpha),
                IDLE_MS,
                orjson.dumps(rows).decode(),
            ]
            calls.append(ScriptCall(script, keys, args))
        try:
            replies = await send_batch(self.client, [script_command(call) for call in calls])
            replies = await rerun_unknown_scripts(self.client, calls, replies)
        except RedisError:
            log.warning("routing health sync: Redis unreachable")
            return
        for batch, reply in zip(batches, replies, strict=True):
            if isinstance(reply, Exception) or not isinstance(reply, list):
                kind = describe(reply) if isinstance(reply, Exception) else type(reply).__name__
                log.warning("routing health sync: %s", kind)
                continue
            for health, merged in zip(batch, reply, strict=True):
                requests, failures, ttfb_us, samples, is_open, opened, retry = (
                    int(v) for v in merged
                )
                health.merge(requests, failures, ttfb_us, samples, bool(is_open), opened, retry)
                health.judge(now, self.config.breaker)

    async def try_probe(self, health: DeploymentHealth) -> Literal["probe", "closed", "denied"]:
        """Ask Redis whether this request may probe a half-open deployment (not the hot path)."""
        now = now_ms()
        if now < health.probe_denied_until_ms:
            return "denied"
        policy = self.config.breaker
        keys = [
            health_key(health.org_id, health.deployment_id),
            probe_key(health.org_id, health.deployment_id),
        ]
        try:
            reply = await run_script(
                self.client,
                probe_script(self.script_flags),
                keys,
                [
                    now,
                    policy.cooldown_ms,
                    policy.probes,
                    max(policy.cooldown_ms, PROBE_SLOT_MIN_MS),
                ],
            )
        except RedisError:
            # Without Redis a process probes on its own, one request per sync interval.
            health.probe_denied_until_ms = now + int(self.config.sync_interval_s * 1000)
            return "probe"
        assert isinstance(reply, list)
        verdict, opened = int(reply[0]), int(reply[1])  # type: ignore[arg-type]
        if verdict == 2:  # closed meanwhile: serve it normally
            health.breaker.open = False
            return "closed"
        if verdict == 0:
            health.breaker.opened_ms = max(health.breaker.opened_ms, opened)
            health.probe_denied_until_ms = now + int(self.config.sync_interval_s * 1000)
            return "denied"
        return "probe"
