"""build_app(settings) -> the proxy ASGI app; its lifespan owns Redis and the snapshot listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from gateway.proxy import metrics
from gateway.proxy.budget.hold import Reservations
from gateway.proxy.config import ProxySettings
from gateway.proxy.errors import NotFound
from gateway.proxy.http import ASGIApp, Receive, Scope, Send, send_json
from gateway.proxy.keyring import Keyring
from gateway.proxy.pii.policy import PolicyCache
from gateway.proxy.pricing import price_table
from gateway.proxy.redis_client import AsyncRedisClient, proxy_redis
from gateway.proxy.routing.models import answer_without_provider
from gateway.proxy.routing.router import Router, start_router
from gateway.proxy.snapshot_cache import SnapshotCache
from gateway.proxy.stages.admission import AdmissionStage
from gateway.proxy.stages.auth import AuthStage
from gateway.proxy.stages.deps import StageDeps
from gateway.proxy.stages.record import RecordStage
from gateway.proxy.stages.redact import RedactStage
from gateway.proxy.stages.route import RouteStage
from gateway.proxy.stages.upstream import UpstreamStage
from gateway.proxy.trace.seal import TraceSealer
from gateway.proxy.upstream_client import UpstreamClient
from gateway.proxy.usage import UsageEmitter
from gateway.proxy.usage_backlog import UsageBacklog

log = logging.getLogger(__name__)

# The stages, outermost first: each wraps every one below it (Starlette's
# middleware list). DESIGN.md draws redact before route; it sits inside route
# here because route parses the body it scans, and outside admission so a
# blocked prompt is never admitted or charged.
STAGES: tuple[Callable[[ASGIApp, StageDeps], ASGIApp], ...] = (
    RecordStage,  # request id, the one place errors become answers, the usage event
    AuthStage,  # key -> tenant snapshot
    RouteStage,  # body, /v1/models, the alias's deployments
    RedactStage,  # the PII policy, on the prompt and on the answer
    AdmissionStage,  # price the candidates; rate limits and budget reservation
    UpstreamStage,  # failover over the deployments; the answer back
)


async def _past_the_last_stage(scope: Scope, receive: Receive, send: Send) -> None:
    """What the innermost stage wraps: nothing reaches it (the route stage answers the rest)."""
    await answer_without_provider(scope["state"]["ctx"], scope, send)


def build_stack(deps: StageDeps) -> ASGIApp:
    """Wrap the stages around each other, the last of STAGES innermost."""
    app: ASGIApp = _past_the_last_stage
    for stage in reversed(STAGES):
        app = stage(app, deps)
    return app


class ProxyApp:
    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.redis: AsyncRedisClient | None = None
        self.stack: ASGIApp | None = None
        self._listener: asyncio.Task[None] | None = None
        self.emitter: UsageEmitter | None = None
        self.router: Router | None = None
        self.client = UpstreamClient(allow_private=settings.allow_private_upstreams)
        self.metrics_server: WSGIServer | None = None

    async def startup(self) -> None:
        settings = self.settings
        self.redis = proxy_redis(settings.redis_url, settings.redis_cluster)
        snapshots = SnapshotCache(self.redis, settings.snapshot_max_age_s)
        await self.client.start()
        self.emitter = UsageEmitter(self.redis)
        self.emitter.start()
        prices = price_table(settings.extra_prices)
        self.router = start_router(
            self.redis, prices, settings.routing, settings.redis_script_flags
        )
        self.stack = build_stack(
            StageDeps(
                settings=settings,
                redis=self.redis,
                emitter=self.emitter,
                snapshots=snapshots,
                router=self.router,
                policies=PolicyCache.from_settings(settings.master_keys),
                prices=prices,
                reservations=Reservations(
                    self.redis, settings.reservation_ttl_s, settings.redis_script_flags
                ),
                keyring=Keyring.from_settings(settings.master_keys, settings.platform_keys),
                client=self.client,
                traces=TraceSealer.from_settings(settings.master_keys),
            )
        )
        self._listener = asyncio.create_task(snapshots.listen(), name="snapshot-listener")
        metrics.register_collector(
            "usage_backlog", UsageBacklog(self.redis, asyncio.get_running_loop())
        )
        if settings.metrics_port:
            self.metrics_server = metrics.serve(
                settings.metrics_host, settings.metrics_port, settings.metrics_multiproc_dir
            )

    async def shutdown(self) -> None:
        if self.metrics_server is not None:
            # shutdown() waits for the serving thread's next poll: not on the loop.
            await asyncio.to_thread(self.metrics_server.shutdown)
            self.metrics_server.server_close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self.router is not None:
            await self.router.close()
        if self.emitter is not None:
            await self.emitter.close()
        await self.client.close()
        if self.redis is not None:
            await self.redis.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets
        if scope["path"] == "/healthz":
            await self._health(send)
            return
        if scope["path"] == "/metrics":
            # Not here: the tenant port would show every tenant's deployments
            # (CONTRACT.md section 5). Unknown, even to a caller without a key.
            unknown = NotFound(
                f"Unknown endpoint {scope['method']} /metrics.", code="unknown_endpoint"
            )
            await send_json(send, unknown.status, unknown.body())
            return
        assert self.stack is not None, "lifespan startup did not run"
        await self.stack(scope, receive, send)

    async def _health(self, send: Send) -> None:
        """Answer 200 when Redis (snapshots, quotas) answers; 503 otherwise."""
        try:
            assert self.redis is not None
            await self.redis.ping()
        except Exception:
            await send_json(send, 503, {"status": "unavailable", "redis": "down"})
            return
        await send_json(send, 200, {"status": "ok"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_app(settings: ProxySettings) -> ProxyApp:
    return ProxyApp(settings)
