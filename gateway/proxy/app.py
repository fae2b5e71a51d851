"""build_app(settings) -> the proxy ASGI app; its lifespan owns Redis and the snapshot listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from wsgiref.simple_server import WSGIServer

from gateway.proxy import metrics
from gateway.proxy.config import ProxySettings
from gateway.proxy.errors import NotFound
from gateway.proxy.http import ASGIApp, Receive, Scope, Send, send_json
from gateway.proxy.keyring import Keyring
from gateway.proxy.pii.policy import PolicyCache
from gateway.proxy.pricing import price_table
from gateway.proxy.redis_client import AsyncRedisClient, proxy_redis
from gateway.proxy.routing.router import Router, start_router
from gateway.proxy.snapshot_cache import SnapshotCache
from gateway.proxy.stages.admission import AdmissionStage
from gateway.proxy.stages.auth import AuthStage
from gateway.proxy.stages.record import RecordStage
from gateway.proxy.stages.redact import RedactStage
from gateway.proxy.stages.route import RouteStage
from gateway.proxy.stages.upstream import UpstreamStage
from gateway.proxy.upstream_client import UpstreamClient
from gateway.proxy.usage import UsageEmitter

log = logging.getLogger(__name__)


def build_stack(
    settings: ProxySettings,
    emitter: UsageEmitter,
    snapshots: SnapshotCache,
    client: UpstreamClient,
    keyring: Keyring,
    redis_client: AsyncRedisClient,
    router: Router,
) -> ASGIApp:
    """Wrap the stages around each other; read the order bottom-up, outermost last."""
    ttl = settings.reservation_ttl_s
    app: ASGIApp = UpstreamStage(client, keyring, redis_client, ttl)
    app = AdmissionStage(app, redis_client, price_table(), ttl)
    # Inside route (which parses the body), outside admission: a blocked
    # prompt is never admitted or charged (DESIGN.md draws it before route).
    app = RedactStage(app, PolicyCache.from_env())
    app = RouteStage(app, settings.max_body_bytes, router)
    app = AuthStage(app, snapshots, settings.hash_key)
    app = RecordStage(app, emitter)
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
        self.redis = proxy_redis(self.settings.redis_url, self.settings.redis_cluster)
        snapshots = SnapshotCache(self.redis, self.settings.snapshot_max_age_s)
        await self.client.start()
        self.emitter = UsageEmitter(self.redis)
        self.emitter.start()
        self.router = start_router(self.redis, price_table())
        self.stack = build_stack(
            self.settings,
            self.emitter,
            snapshots,
            self.client,
            Keyring.from_env(),
            self.redis,
            self.router,
        )
        self._listener = asyncio.create_task(snapshots.listen(), name="snapshot-listener")
        if self.settings.metrics_port:
            self.metrics_server = metrics.serve(
                self.settings.metrics_host, self.settings.metrics_port
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
