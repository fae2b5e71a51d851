"""Send the usage event (its shape: gateway.shared.usage_event), batched with settlements.

The proxy writes it (XADD) once the response is finished; a Celery task in
observability drains the stream into PostgreSQL. It holds metadata only
(CONTRACT.md section 6): never prompt or completion text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import orjson

from gateway.proxy.context import RequestContext
from gateway.proxy.lua_scripts import ScriptCall, rerun_unknown_scripts, script_command
from gateway.proxy.redis_client import AsyncRedisClient, Command, send_batch
from gateway.shared.money import nano_to_usd
from gateway.shared.safe_errors import describe
from gateway.shared.usage_event import STREAM, UsageEvent

log = logging.getLogger(__name__)
# The longest a shutdown waits for the emitter's last flush in its own task.
CLOSE_WAIT_S = 5.0
# Bounds memory if the drain stops for long; at ~300 bytes an event this is
# ~300 MB. Approximate trimming (~) keeps XADD O(1).
STREAM_MAXLEN = 1_000_000


# The request log's count columns hold 0 to 2**31 - 1 (PostgreSQL integer).
MAX_COUNT = 2**31 - 1


def _count(tokens: int) -> int:
    """A token count the log can hold: a tenant's own upstream may report anything."""
    return min(max(tokens, 0), MAX_COUNT)


def event_from(ctx: RequestContext) -> UsageEvent:
    key = ctx.key
    usage = ctx.usage
    hold = ctx.hold
    event: UsageEvent = {
        "ts": ctx.arrived_at,
        "request_id": ctx.request_id,
        "org_id": ctx.org_id,
        "project_id": key["project_id"] if key else None,
        "team_id": key["team_id"] if key else None,
        "key_id": key["id"] if key else None,
        "user_id": key["user_id"] if key else None,
        "endpoint": ctx.path,
        "model_requested": ctx.model_requested,
        "model_dispatched": ctx.deployment["model"] if ctx.deployment else None,
        "provider": ctx.deployment["provider"] if ctx.deployment else None,
        "deployment_id": ctx.deployment["id"] if ctx.deployment else None,
        "stream": ctx.stream,
        "status": ctx.status,
        "error_type": ctx.error_type,
        "input_tokens": _count(usage.input_tokens),
        "output_tokens": _count(usage.output_tokens),
        "cached_input_tokens": _count(usage.cached_input_tokens),
        "reasoning_tokens": _count(usage.reasoning_tokens),
        "latency_ms": int((time.perf_counter() - ctx.started_at) * 1000),
        "ttfb_ms": ctx.ttfb_ms,
        "cost_usd": nano_to_usd(ctx.cost_nano) if ctx.cost_nano is not None else None,
        "attempts": ctx.attempts,
        "client_disconnected": ctx.client_disconnected,
        "charged_nano": hold.charge_for(ctx.cost_nano or 0) if hold else 0,
        "windows": [counter.label for counter in hold.counters] if hold else [],
    }
    if ctx.redactions:
        event["redactions"] = ctx.redactions
    if ctx.strategy:
        event["strategy"] = ctx.strategy
    if ctx.error_code:
        event["error_code"] = ctx.error_code
    if ctx.error_provider:
        event["error_provider"] = ctx.error_provider
    if ctx.tenant is not None:
        event["routing_version"] = ctx.tenant["version"]
    return event


class UsageEmitter:
    """Batch usage events, and the settlements riding with them, into one round trip.

    One awaited XADD per request cost ~15% of the proxy's CPU under load
    (py-spy, make bench); batching makes it one pipelined round trip per
    flush, and a request's settlement (lua/settle.lua) goes in the same one,
    so a budgeted request waits on Redis only at admission. The accepted
    cost: what the last FLUSH_INTERVAL_S queued is lost if the process is
    killed (a clean shutdown flushes it); a lost settlement leaves its
    reservation to the reaper, which charges its estimate.
    """

    FLUSH_INTERVAL_S = 0.005
    MAX_BATCH = 512

    def __init__(self, client: AsyncRedisClient) -> None:
        self._client = client
        self._pending: list[bytes] = []
        self._settlements: list[ScriptCall] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-emitter")

    def emit(self, event: UsageEvent, settlement: ScriptCall | None = None) -> None:
        self._pending.append(orjson.dumps(event))
        if settlement is not None:
            self._settlements.append(settlement)
        if len(self._pending) >= self.MAX_BATCH:
            self._wake.set()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.FLUSH_INTERVAL_S)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write everything pending; a failure is logged, never raised to a request."""
        batch, self._pending = self._pending, []
        settlements, self._settlements = self._settlements, []
        if not batch and not settlements:
            return
        commands: list[Command] = [script_command(call) for call in settlements]
        commands += [
            ("XADD", STREAM, "MAXLEN", "~", STREAM_MAXLEN, "*", "e", body) for body in batch
        ]
        try:
            replies = await send_batch(self._client, commands)
            settled = await rerun_unknown_scripts(
                self._client, settlements, replies[: len(settlements)]
            )
        except Exception as e:
            log.error(
                "%d usage events, %d settlements lost: %s",
                len(batch),
                len(settlements),
                describe(e),
            )
            return
        for reply in settled:
            if isinstance(reply, Exception):
                log.error("settlement failed, left to the reaper: %s", describe(reply))

    async def close(self) -> None:
        """Flush what is pending and stop; bounded, so a shutdown never hangs here.

        The task is woken to finish its loop rather than cancelled: a cancel
        could cut a flush short after its batch left the queue, and on Python
        3.11 a cancel racing wait_for's timeout can be lost, leaving a task
        that never ends (seen as a proxy that never exits on SIGTERM).
        """
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=CLOSE_WAIT_S)
            self._task.cancel()  # a no-op once it has ended
        await self.flush()
