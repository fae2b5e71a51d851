"""Active health pings: the cheapest call to a deployment, its outcome fed into the shared health.

Celery beat runs them (gateway/tasks.py) for the deployments whose route
opted in (`health_check: true`); this module holds no Django, so the call is
built and sent exactly as the proxy's upstream stage does it: the provider
adapter builds the request (URL, auth), the Keyring opens the org's sealed key
(or takes the platform's), and UpstreamClient sends it under the same SSRF
guard (SELIXES_PRIVATE_UPSTREAMS).

One ping is a chat completion of a one-word prompt with max_tokens 1: a few
prompt tokens and one answer token on the tenant's provider bill. Selixes
charges it to no budget and logs no request for it.

The outcome reaches the shared state the way a proxy's attempt does: a
HealthBook + HealthSync of our own reads the deployments' shared state
(lua/routing_sync.lua), a Failover records the outcome (so a 5xx, a timeout or
a broken answer count as failures toward the breaker, a 429 sets retry-after,
our own misconfiguration counts for nothing), and the next sync pushes the
deltas and any breaker transition. A deployment its breaker keeps out is not
pinged, except as the half-open probe (lua/routing_probe.lua): then a success
closes the breaker for every proxy, a failure opens it anew.

The last result of each deployment is kept beside its health, for the
dashboard: sel:{<org_id>}:rt:<deployment id>:ping, a hash of at (ms),
outcome, latency_ms; it expires with the health state (sync.IDLE_MS).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace

from redis.exceptions import RedisError

from gateway.proxy.errors import ProxyError, StreamProtocolError, UpstreamFailure
from gateway.proxy.keyring import Keyring
from gateway.proxy.providers import adapter_for
from gateway.proxy.providers.base import JSON, is_retryable
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.failover import NEUTRAL_OUTCOMES, Failover
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.sync import IDLE_MS, HealthSync
from gateway.proxy.upstream_client import UpstreamClient
from gateway.shared.snapshot import DeploymentEntry, Snapshot

log = logging.getLogger(__name__)
PING_PROMPT = "ping"
MAX_PING_BYTES = 64 * 1024
# Deployments pinged at once by one run, over every org.
CONCURRENCY = 32


def ping_key(org_id: str, deployment_id: str) -> str:
    return f"sel:{{{org_id}}}:rt:{deployment_id}:ping"


def ping_body(alias: str) -> JSON:
    """The cheapest chat request there is: one word in, at most one token out."""
    return {
        "model": alias,
        "messages": [{"role": "user", "content": PING_PROMPT}],
        "max_tokens": 1,
        "stream": False,
    }


@dataclass(frozen=True, slots=True)
class PingOutcome:
    deployment_id: str
    # "ok", or the upstream stage's attempt outcomes: http_<status>, upstream_timeout,
    # upstream_unreachable, upstream_forbidden, no_provider_key, malformed_response...
    outcome: str
    latency_ms: int
    retry_after_s: float | None = None
    # Says nothing of the deployment's health: the provider refused the call (401,
    # 404, 400) or we could not build it (no key); ours to fix, never counted.
    rejected: bool = False
    probe: bool = False  # the ping was the half-open breaker's probe


def pinged_deployments(tenant: Snapshot) -> list[tuple[str, DeploymentEntry]]:
    """(alias, deployment) of every deployment of the org that opted in to pings."""
    return [
        (alias, deployment)
        for alias, route in sorted(tenant["routes"].items())
        for deployment in route["deployments"]
        if deployment.get("health_check")
    ]


async def send_ping(
    client: UpstreamClient,
    keyring: Keyring,
    tenant: Snapshot,
    alias: str,
    deployment: DeploymentEntry,
    timeout_s: float,
) -> PingOutcome:
    """Send one ping as the upstream stage would send a request; say how it went."""
    started = time.perf_counter()

    def outcome(
        name: str, retry_after_s: float | None = None, rejected: bool = False
    ) -> PingOutcome:
        latency = int((time.perf_counter() - started) * 1000)
        return PingOutcome(deployment["id"], name, latency, retry_after_s, rejected)

    try:
        adapter = adapter_for(deployment["provider"])
        api_key = keyring.key_for(tenant, deployment)
        request = adapter.chat_request(ping_body(alias), deployment, api_key, stream=False)
    except ProxyError as e:
        # No key, a misconfigured deployment, an operation the provider lacks: ours to fix.
        return outcome(e.code, rejected=True)
    connect_timeout = min(deployment["connect_timeout_s"], timeout_s)
    read_timeout = min(deployment["timeout_s"], timeout_s)
    try:
        # The read timeout bounds each read; this bounds the whole ping.
        async with asyncio.timeout(connect_timeout + read_timeout):
            response = await client.send(request, connect_timeout, read_timeout)
            try:
                if response.status >= 400:
                    try:
                        body = await response.read(MAX_PING_BYTES)
                    except UpstreamFailure:
                        body = b""
                    error = adapter.error(response.status, body, response.headers, api_key)
                    # A refused key (401/403) is ours to fix, as in failover's health
                    # (providers.base KEY_REFUSED_STATUSES): it fails over, it is no failure.
                    return outcome(
                        f"http_{response.status}",
                        retry_after_s=error.retry_after_s,
                        rejected=not is_retryable(response.status),
                    )
                body = await response.read(MAX_PING_BYTES)
            finally:
                response.close()
    except UpstreamFailure as e:
        return outcome(e.code)
    except TimeoutError:
        return outcome("upstream_timeout")
    try:
        adapter.chat_response(body, alias)
    except (StreamProtocolError, ValueError, KeyError, TypeError):
        return outcome("malformed_response")
    return outcome("ok")


class Pinger:
    """One run of pings: every opted-in deployment of the orgs given, outcomes shared."""

    def __init__(
        self,
        redis: AsyncRedisClient,
        upstream: UpstreamClient,
        keyring: Keyring,
        config: RoutingConfig,
        timeout_s: float,
        concurrency: int = CONCURRENCY,
        script_flags: str = "",
    ) -> None:
        self.redis = redis
        self.script_flags = script_flags  # SELIXES_REDIS_SCRIPT_FLAGS
        self.upstream = upstream
        self.keyring = keyring
        self.config = config
        self.timeout_s = timeout_s
        self._slots = asyncio.Semaphore(concurrency)

    async def ping_orgs(self, tenants: list[Snapshot]) -> list[PingOutcome]:
        runs = await asyncio.gather(*(self.ping_org(tenant) for tenant in tenants))
        return [outcome for run in runs for outcome in run]

    async def ping_org(self, tenant: Snapshot) -> list[PingOutcome]:
        """Ping the org's opted-in deployments; their outcomes go into the shared health."""
        chosen = pinged_deployments(tenant)
        if not chosen:
            return []
        org_id = tenant["org_id"]
        book = HealthBook()
        sync = HealthSync(self.redis, book, self.config, self.script_flags)
        # What every proxy sees now: the breaker, the window, retry-after.
        await sync.load([book.get(org_id, d["id"]) for _, d in chosen])
        pinged = await asyncio.gather(
            *(self._ping(tenant, alias, d, book, sync) for alias, d in chosen)
        )
        outcomes = [outcome for outcome in pinged if outcome is not None]
        # Push the deltas; a breaker the merged window opens (judge) is pushed by a second sync.
        await sync.sync_once()
        if any(health.pending_event for health in book.entries.values()):
            await sync.sync_once()
        await self._remember(org_id, outcomes)
        return outcomes

    async def _ping(
        self,
        tenant: Snapshot,
        alias: str,
        deployment: DeploymentEntry,
        book: HealthBook,
        sync: HealthSync,
    ) -> PingOutcome | None:
        """Ping one deployment unless its breaker or a retry-after keeps it out; record it."""
        org_id = tenant["org_id"]
        health = book.get(org_id, deployment["id"])
        now = now_ms()
        if health.retry_until_ms > now:
            return None  # the provider said when to come back
        phase = health.phase(now, self.config.breaker)
        probe = False
        if phase == "open":
            return None  # a ping could change nothing before the cooldown ends
        if phase == "half_open":
            verdict = await sync.try_probe(health)
            if verdict == "denied":
                return None  # a proxy's request is the probe
            probe = verdict == "probe"
        failover = Failover(org_id, book, self.config)
        if probe:
            failover.probing.add(deployment["id"])
        failover.request_started = failover.attempt_started = time.perf_counter()
        async with self._slots:
            outcome = await send_ping(
                self.upstream, self.keyring, tenant, alias, deployment, self.timeout_s
            )
        if outcome.outcome == "ok":
            failover.succeeded(deployment, outcome.latency_ms, broken=False)
        elif not outcome.rejected:
            failover.failed(deployment, outcome.outcome, outcome.retry_after_s)
        if probe and (outcome.rejected or outcome.outcome in NEUTRAL_OUTCOMES):
            # Not an answer about the deployment's health: leave the probe to a request.
            probe = False
        return replace(outcome, probe=probe)

    async def _remember(self, org_id: str, outcomes: list[PingOutcome]) -> None:
        if not outcomes:
            return
        at = now_ms()
        pipe = self.redis.pipeline(transaction=False)
        for outcome in outcomes:
            key = ping_key(org_id, outcome.deployment_id)
            pipe.hset(
                key,
                mapping={"at": at, "outcome": outcome.outcome, "latency_ms": outcome.latency_ms},
            )
            pipe.pexpire(key, IDLE_MS)
        try:
            await pipe.execute()
        except RedisError:
            # The health itself was shared (or not) by the sync; this is only the display.
            log.warning("health pings: could not keep the last results")
