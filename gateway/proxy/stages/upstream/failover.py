"""The upstream stage: try each candidate deployment in order until one answers.

A deployment that fails before the first byte reaches the client (no
connection, timeout, 5xx, 429, a refused provider key, a stream that breaks
before its first event) is recorded in the chain and the next one is tried.
Once bytes have reached the client there is no silent retry: a broken stream
ends with an error event the SDKs raise on. A client that disconnects
cancels the upstream request; its usage so far is still recorded.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from gateway.proxy.budget.hold import held_to
from gateway.proxy.context import RequestContext
from gateway.proxy.dialects import DIALECTS, JSON, Dialect
from gateway.proxy.errors import (
    AllUpstreamsFailed,
    AttemptFailed,
    MisconfiguredDeployment,
    MissingProviderKey,
    ProviderRejected,
    UpstreamFailure,
)
from gateway.proxy.http import ASGIApp, Message, Receive, Scope, Send
from gateway.proxy.providers import adapter_for, native_adapter_for
from gateway.proxy.providers.base import (
    KEY_REFUSED_STATUSES,
    NativePassthrough,
    ProviderAdapter,
    UpstreamError,
    is_retryable,
)
from gateway.proxy.recorded import header_value
from gateway.proxy.stages.deps import StageDeps
from gateway.proxy.stages.upstream.native import native
from gateway.proxy.stages.upstream.relay import Headers, stream, whole
from gateway.proxy.upstream_client import UpstreamResponse
from gateway.shared.snapshot import DeploymentEntry
from gateway.shared.usage_event import Attempt

MAX_ERROR_BYTES = 64 * 1024


def fails_over(status: int) -> bool:
    """Whether a provider's error answer sends the request on to the next deployment.

    What may succeed elsewhere or later (gateway.proxy.providers.base
    is_retryable, which health pings share), and a refused key (401/403):
    the next deployment may hold another key.
    """
    return is_retryable(status) or status in KEY_REFUSED_STATUSES


def _chain_status(failures: list[AttemptFailed]) -> int:
    if all(f.status == 504 for f in failures):
        return 504
    if all(f.status == 503 for f in failures):
        return 503
    return 502


class UpstreamStage:
    """The innermost stage: every request that reaches it is an operation to serve."""

    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        # The end of the list (build_stack): never called, as the route stage
        # answers every request that names no operation.
        self.app = app
        self.client = deps.client
        self.keyring = deps.keyring
        self.reservations = deps.reservations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        # One watcher task per request cancels this one if the client leaves
        # (which closes the upstream response too); cheaper than running the
        # work in a second task and waiting on both.
        serving = asyncio.current_task()
        assert serving is not None
        answered = False

        async def send_tracking(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True

        async def watch() -> None:
            await _wait_for_disconnect(receive)
            # The server also reports a disconnect once the answer is complete.
            if not answered:
                ctx.client_disconnected = True
                serving.cancel()

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await self._serve(ctx, send_tracking)
        except asyncio.CancelledError:
            if not ctx.client_disconnected:
                raise
            serving.uncancel()
        finally:
            watcher.cancel()

    async def _serve(self, ctx: RequestContext, send: Send) -> None:
        """The failover loop: the candidates in order, within the route's limits and budget."""
        dialect = DIALECTS[ctx.dialect]
        canonical = dialect.to_canonical(ctx.payload)
        failures: list[AttemptFailed] = []
        offers, index, budget_ends_chain = ctx.offers, 0, False
        failover, stopped = ctx.failover, None
        while index < len(offers):
            if ctx.attempts and failover is not None:
                # The route's attempt limit and deadline; a jittered pause between attempts.
                stopped = await failover.before_retry(len(ctx.attempts))
                if stopped is not None:
                    break
            if index > 0 and ctx.hold is not None:
                # The failed attempt's reservation goes back; the next candidate
                # the budget can cover is reserved for (or none is, and we stop).
                step = await self.reservations.move(ctx, offers[index:])
                if step is None:
                    budget_ends_chain = True
                    break
                index += step
            offer = ctx.offer = offers[index]
            index += 1
            ctx.upstream_endpoint = None
            started = time.perf_counter()
            if failover is not None:
                failover.started()
            try:
                await self._attempt(ctx, send, dialect, held_to(canonical, offer), offer.deployment)
            except AttemptFailed as failure:
                failures.append(failure)
                ctx.attempts.append(_attempt(ctx, offer.deployment, failure.outcome, started))
                if failover is not None:
                    failover.failed(offer.deployment, failure.outcome, failure.retry_after_s)
                continue
            ctx.attempts.append(_attempt(ctx, offer.deployment, "ok", started))
            if failover is not None:
                failover.succeeded(offer.deployment, ctx.ttfb_ms, broken=ctx.error_type is not None)
            return
        chain = "; ".join(f"{a['provider']}/{a['model']}: {a['outcome']}" for a in ctx.attempts)
        if budget_ends_chain:
            chain += "; the budget cannot cover the remaining deployments"
        if stopped is not None:
            chain += f"; {stopped}"
        retry_after = min(
            (f.retry_after_s for f in failures if f.retry_after_s is not None), default=None
        )
        ctx.error_provider = _last_provider_failure(ctx.attempts)
        raise AllUpstreamsFailed(
            f"Every deployment of '{ctx.model_requested}' failed ({chain}).",
            _chain_status(failures),
            retry_after,
        )

    async def _attempt(
        self,
        ctx: RequestContext,
        send: Send,
        dialect: Dialect,
        canonical: JSON,
        deployment: DeploymentEntry,
    ) -> None:
        """Serve from one deployment, or raise AttemptFailed before any byte is sent."""
        assert ctx.tenant is not None and ctx.model_requested is not None
        passthrough: NativePassthrough | None = None
        try:
            adapter = adapter_for(deployment["provider"])
            api_key = self.keyring.key_for(ctx.tenant, deployment)
            if ctx.operation == "chat":
                # A body already in the provider's own format goes through as is,
                # so provider-only fields (cache_control, thinking) survive.
                passthrough = native_adapter_for(deployment["provider"], ctx.dialect)
            if passthrough is not None:
                request = passthrough.native_request(
                    ctx.payload, deployment, api_key, ctx.stream, ctx.client_headers
                )
            elif ctx.operation == "chat":
                request = adapter.chat_request(canonical, deployment, api_key, ctx.stream)
            else:
                request = adapter.embeddings_request(canonical, deployment, api_key)
        except (MissingProviderKey, MisconfiguredDeployment) as e:
            raise AttemptFailed(e.code, 503 if isinstance(e, MissingProviderKey) else 502) from e
        ctx.upstream_endpoint = endpoint_of(request.url)
        if ctx.trace is not None:
            ctx.trace.sent(request.body)  # the request as sent: redacted, provider's format
        try:
            response = await self.client.send(
                request, deployment["connect_timeout_s"], deployment["timeout_s"]
            )
        except UpstreamFailure as e:
            raise AttemptFailed(e.code, e.status) from e
        try:
            if response.status >= 400:
                try:
                    await _refuse(ctx, adapter, response, api_key)
                except ProviderRejected:
                    # No other deployment would answer otherwise: this provider's
                    # answer failed the request (one that fails over is the chain's).
                    ctx.error_provider = deployment["provider"]
                    raise
            ctx.deployment = deployment
            headers = _selixes_headers(ctx)
            if passthrough is not None:
                await native(ctx, send, passthrough, dialect, response, headers)
            elif ctx.stream:
                await stream(ctx, send, adapter, dialect, response, headers)
            else:
                await whole(ctx, send, adapter, dialect, response, headers)
        finally:
            response.close()


async def _refuse(
    ctx: RequestContext, adapter: ProviderAdapter, response: UpstreamResponse, api_key: str
) -> None:
    """Fail the attempt (the next deployment may serve) or refuse the request (none would)."""
    try:
        body = await response.read(MAX_ERROR_BYTES)
    except UpstreamFailure:
        body = b""
    error: UpstreamError = adapter.error(response.status, body, response.headers, api_key)
    if ctx.trace is not None:
        # As the adapter restates it (keys and auth headers scrubbed); the redact
        # stage redacts its text like an answer's, or leaves it out.
        ctx.trace.failed({"status": error.status, "type": error.type, "message": error.message})
    if fails_over(response.status):
        raise AttemptFailed(f"http_{response.status}", 502, error.retry_after_s)
    raise ProviderRejected(response.status, error.message)


def _selixes_headers(ctx: RequestContext) -> Headers:
    assert ctx.deployment is not None
    tried = ",".join(f"{a['provider']}/{a['model']}" for a in ctx.attempts)
    headers = [(b"x-selixes-model", header_value(ctx.deployment["model"]))]
    if tried:
        headers.append((b"x-selixes-fallbacks", header_value(tried)))
    return headers


def _attempt(
    ctx: RequestContext, deployment: DeploymentEntry, outcome: str, started: float
) -> Attempt:
    attempt: Attempt = {
        "deployment_id": deployment["id"],
        "provider": deployment["provider"],
        "model": deployment["model"],
        "outcome": outcome,
        "latency_ms": int((time.perf_counter() - started) * 1000),
    }
    if ctx.upstream_endpoint is not None:
        attempt["endpoint"] = ctx.upstream_endpoint
    health = ctx.routing_health.get(deployment["id"])
    if health is not None:
        attempt["health"] = health
    return attempt


# Attempt outcomes the gateway decided without a provider's answer: no key, a
# deployment it cannot build a request for, an address the SSRF rules refuse.
GATEWAY_OUTCOMES = frozenset(
    {"no_provider_key", "deployment_misconfigured", "upstream_forbidden", "unsupported_by_provider"}
)


def _last_provider_failure(attempts: list[Attempt]) -> str | None:
    """The provider of the last attempt a provider failed (None: the gateway refused them all)."""
    for attempt in reversed(attempts):
        if attempt["outcome"] not in GATEWAY_OUTCOMES:
            return attempt["provider"]
    return None


def endpoint_of(url: str) -> str:
    """The "host[:port]" of `url`: never its user info, path, query (a Gemini key) or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a port the client would refuse too; the host alone is still true
        port = None
    return host if port is None else f"{host}:{port}"


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
