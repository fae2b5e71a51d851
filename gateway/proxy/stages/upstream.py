"""Upstream stage (innermost): send to each candidate deployment in order; stream the answer back.

A deployment that fails before the first byte reaches the client (no
connection, timeout, 5xx, 429, a refused provider key, a stream that breaks
before its first event) is recorded in the chain and the next one is tried.
Once bytes have reached the client there is no silent retry: a broken stream
ends with an error event the SDKs raise on. A client that disconnects
cancels the upstream request; its usage so far is still recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

import redis.exceptions

from gateway.proxy.budget import engine as budget_engine
from gateway.proxy.budget.engine import Admitted, Candidate
from gateway.proxy.context import RequestContext
from gateway.proxy.dialects import DIALECTS, JSON, Dialect
from gateway.proxy.endpoints import dispatch
from gateway.proxy.errors import ProxyError
from gateway.proxy.http import JSON_CONTENT_TYPE, Message, Receive, Scope, Send, send_json
from gateway.proxy.keyring import Keyring, MissingProviderKey
from gateway.proxy.money import nano_to_usd
from gateway.proxy.providers import adapter_for, native_adapter_for
from gateway.proxy.providers.base import (
    MisconfiguredDeployment,
    NativePassthrough,
    ProviderAdapter,
    StreamProtocolError,
    UpstreamError,
    Usage,
)
from gateway.proxy.recorded import header_value
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.proxy.snapshot import DeploymentEntry
from gateway.proxy.upstream_client import UpstreamClient, UpstreamFailure, UpstreamResponse
from gateway.proxy.usage import Attempt

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_ERROR_BYTES = 64 * 1024
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
# Provider answers after which the next deployment may do better.
RETRYABLE_STATUSES = frozenset({401, 403, 408, 409, 429})


class ProviderRejected(ProxyError):
    """The provider refused the request itself (bad parameters): retrying elsewhere won't help."""

    type = "invalid_request_error"
    code = "provider_rejected"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status if status in (400, 404, 413, 422) else 400


class AllUpstreamsFailed(ProxyError):
    type = "upstream_error"
    code = "all_deployments_failed"

    def __init__(self, message: str, status: int, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class _AttemptFailed(Exception):
    def __init__(self, outcome: str, status: int, retry_after_s: float | None = None) -> None:
        self.outcome = outcome
        self.status = status
        self.retry_after_s = retry_after_s


def _chain_status(failures: list[_AttemptFailed]) -> int:
    if all(f.status == 504 for f in failures):
        return 504
    if all(f.status == 503 for f in failures):
        return 503
    return 502


class UpstreamStage:
    def __init__(
        self,
        client: UpstreamClient,
        keyring: Keyring,
        redis_client: AsyncRedisClient,
        reservation_ttl_s: float,
    ) -> None:
        self.client = client
        self.keyring = keyring
        self.redis = redis_client
        self.reservation_ttl_ms = int(reservation_ttl_s * 1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        if not ctx.operation:
            await dispatch(scope, receive, send)
            return
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
        dialect = DIALECTS[ctx.dialect]
        canonical = dialect.to_canonical(ctx.payload)
        failures: list[_AttemptFailed] = []
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
                step = await self._reserve_next(ctx, offers[index:])
                if step is None:
                    budget_ends_chain = True
                    break
                index += step
            offer = ctx.offer = offers[index]
            index += 1
            started = time.perf_counter()
            if failover is not None:
                failover.started()
            try:
                await self._attempt(ctx, send, dialect, _held_to(canonical, offer), offer)
            except _AttemptFailed as failure:
                failures.append(failure)
                ctx.attempts.append(_attempt(offer.deployment, failure.outcome, started))
                if failover is not None:
                    failover.failed(offer.deployment, failure.outcome, failure.retry_after_s)
                continue
            ctx.attempts.append(_attempt(offer.deployment, "ok", started))
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
        raise AllUpstreamsFailed(
            f"Every deployment of '{ctx.model_requested}' failed ({chain}).",
            _chain_status(failures),
            retry_after,
        )

    async def _reserve_next(self, ctx: RequestContext, rest: list[Candidate]) -> int | None:
        """Move the request's reservation to the first of `rest` that fits; its index or None."""
        assert ctx.hold is not None
        now_ms = int(time.time() * 1000)
        try:
            outcome = await budget_engine.move_to(
                self.redis, ctx.hold, rest, now_ms, now_ms + self.reservation_ttl_ms
            )
        except redis.exceptions.RedisError:
            log.warning("budget store unreachable on failover request_id=%s", ctx.request_id)
            return None  # fail closed: no unreserved attempt
        return outcome.index if isinstance(outcome, Admitted) else None

    async def _attempt(
        self,
        ctx: RequestContext,
        send: Send,
        dialect: Dialect,
        canonical: JSON,
        offer: Candidate,
    ) -> None:
        """Serve from one deployment, or raise _AttemptFailed before any byte is sent."""
        assert ctx.tenant is not None and ctx.model_requested is not None
        deployment = offer.deployment
        native: NativePassthrough | None = None
        try:
            adapter = adapter_for(deployment["provider"])
            api_key = self.keyring.key_for(ctx.tenant, deployment)
            if ctx.operation == "chat":
                # A body already in the provider's own format goes through as is,
                # so provider-only fields (cache_control, thinking) survive.
                native = native_adapter_for(deployment["provider"], ctx.dialect)
            if native is not None:
                request = native.native_request(
                    ctx.payload, deployment, api_key, ctx.stream, ctx.client_headers
                )
            elif ctx.operation == "chat":
                request = adapter.chat_request(canonical, deployment, api_key, ctx.stream)
            else:
                request = adapter.embeddings_request(canonical, deployment, api_key)
        except (MissingProviderKey, MisconfiguredDeployment) as e:
            raise _AttemptFailed(e.code, 503 if isinstance(e, MissingProviderKey) else 502) from e
        try:
            response = await self.client.send(
                request, deployment["connect_timeout_s"], deployment["timeout_s"]
            )
        except UpstreamFailure as e:
            raise _AttemptFailed(e.code, e.status) from e
        try:
            if response.status >= 400:
                await self._refuse(adapter, response, api_key)
            ctx.deployment = deployment
            headers = self._selixes_headers(ctx)
            if native is not None:
                await self._native(ctx, send, native, dialect, response, headers)
            elif ctx.stream:
                await self._stream(ctx, send, adapter, dialect, response, headers)
            else:
                await self._whole(ctx, send, adapter, dialect, response, headers)
        finally:
            response.close()

    async def _native(
        self,
        ctx: RequestContext,
        send: Send,
        native: NativePassthrough,
        dialect: Dialect,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        """Forward the provider's answer byte for byte, reading usage on the way."""
        if not ctx.stream:
            try:
                body = await response.read(MAX_RESPONSE_BYTES)
                ctx.usage = native.native_usage(body)
            except UpstreamFailure as e:
                raise _AttemptFailed(e.code, e.status) from e
            except (StreamProtocolError, ValueError, KeyError, TypeError) as e:
                raise _AttemptFailed("malformed_response", 502) from e
            ctx.mark_first_byte()
            start_headers = [
                JSON_CONTENT_TYPE,
                (b"content-length", str(len(body)).encode()),
                *_cost_headers(ctx),
            ]
            await send(
                {"type": "http.response.start", "status": 200, "headers": start_headers + headers}
            )
            await send({"type": "http.response.body", "body": body})
            return
        scanner = native.native_stream()

        def scan(data: bytes) -> bytes:
            scanner.feed(data)  # raises on an error event before it is forwarded
            return data

        def end() -> bytes:
            scanner.close()
            return b""

        encoder = dialect.stream_encoder(ctx.payload, ctx.model_requested or "")
        await self._relay(ctx, send, response, headers, scan, end, encoder.error, scanner)

    async def _refuse(
        self, adapter: ProviderAdapter, response: UpstreamResponse, api_key: str
    ) -> None:
        try:
            body = await response.read(MAX_ERROR_BYTES)
        except UpstreamFailure:
            body = b""
        error: UpstreamError = adapter.error(response.status, body, response.headers, api_key)
        if response.status >= 500 or response.status in RETRYABLE_STATUSES:
            raise _AttemptFailed(f"http_{response.status}", 502, error.retry_after_s)
        raise ProviderRejected(response.status, error.message)

    def _selixes_headers(self, ctx: RequestContext) -> list[tuple[bytes, bytes]]:
        assert ctx.deployment is not None
        tried = ",".join(f"{a['provider']}/{a['model']}" for a in ctx.attempts)
        headers = [(b"x-selixes-model", header_value(ctx.deployment["model"]))]
        if tried:
            headers.append((b"x-selixes-fallbacks", header_value(tried)))
        return headers

    async def _whole(
        self,
        ctx: RequestContext,
        send: Send,
        adapter: ProviderAdapter,
        dialect: Dialect,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        try:
            body = await response.read(MAX_RESPONSE_BYTES)
        except UpstreamFailure as e:
            raise _AttemptFailed(e.code, e.status) from e
        ctx.mark_first_byte()
        alias = ctx.model_requested or ""
        try:
            if ctx.operation == "chat":
                answer, usage = adapter.chat_response(body, alias)
                answer = dialect.from_canonical(answer, alias)
            else:
                answer, usage = adapter.embeddings_response(body, alias)
        except (StreamProtocolError, ValueError, KeyError, TypeError) as e:
            raise _AttemptFailed("malformed_response", 502) from e
        ctx.usage = usage
        await send_json(send, 200, answer, headers + _cost_headers(ctx))

    async def _stream(
        self,
        ctx: RequestContext,
        send: Send,
        adapter: ProviderAdapter,
        dialect: Dialect,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        alias = ctx.model_requested or ""
        decoder = adapter.chat_stream(alias)
        encoder = dialect.stream_encoder(ctx.payload, alias)

        def translate(data: bytes) -> bytes:
            return b"".join(encoder.encode(c) for c in decoder.feed(data))

        def end() -> bytes:
            tail = b"".join(encoder.encode(c) for c in decoder.close())
            return tail + encoder.finish(decoder.usage)

        await self._relay(ctx, send, response, headers, translate, end, encoder.error, decoder)

    async def _relay(
        self,
        ctx: RequestContext,
        send: Send,
        response: UpstreamResponse,
        headers: list[tuple[bytes, bytes]],
        step: Callable[[bytes], bytes],
        end: Callable[[], bytes],
        error_event: Callable[[str], bytes],
        meter: _Metered,
    ) -> None:
        """Forward each upstream read at once (never buffered to the end).

        A stream that breaks before its first byte reached the client fails
        this attempt, so the next deployment is tried; after that it ends with
        an error event the SDKs raise on, never a clean-looking truncation.
        """
        started = False

        async def begin() -> None:
            nonlocal started
            if not started:
                started = True
                ctx.mark_first_byte()
                await send(
                    {"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + headers}
                )

        async def forward(data: bytes) -> None:
            if data:
                await begin()
                await send({"type": "http.response.body", "body": data, "more_body": True})

        async def fail(message: str) -> None:
            ctx.error_type, ctx.error_code = "upstream_error", "stream_broken"
            await send(
                {"type": "http.response.body", "body": error_event(message), "more_body": True}
            )

        try:
            async for data in response.chunks():
                out = step(data)
                if _overran(ctx, meter.usage):
                    # Cut rather than overspend: what was reserved is all it may cost.
                    await begin()
                    await fail("The answer exceeded the tokens reserved for it and was cut.")
                    break
                await forward(out)
            else:
                await forward(end())
        except (StreamProtocolError, UpstreamFailure) as e:
            if not started:
                raise _AttemptFailed("stream_broken", 502) from e
            await fail("The provider's stream broke off; the answer is incomplete.")
        finally:
            ctx.usage = meter.usage
        # CONTRACT.md section 5: a stream's cost travels in its last SSE comment line.
        cost = dict(_cost_headers(ctx))[b"x-selixes-cost-usd"]
        await begin()  # a provider may close a stream without sending anything
        await send(
            {
                "type": "http.response.body",
                "body": b": x-selixes-cost-usd=" + cost + b"\n\n",
                "more_body": False,
            }
        )


class _Metered(Protocol):
    usage: Usage


def _held_to(canonical: JSON, offer: Candidate) -> JSON:
    """The request as sent to `offer`: never allowed more output than was reserved for."""
    if offer.injected_max_tokens is None:
        return canonical
    return {**canonical, "max_completion_tokens": offer.injected_max_tokens}


def _overran(ctx: RequestContext, usage: Usage) -> bool:
    """True once a provider reports more tokens than the request's reservation assumed."""
    offer = ctx.offer
    if offer is None:
        return False
    return usage.output_tokens > offer.max_output_tokens or (
        usage.input_tokens > ctx.input_token_bound
    )


def _cost_headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    """Price the answer (ctx.cost_nano) and return the headers that tell the client."""
    assert ctx.offer is not None
    ctx.cost_nano = ctx.offer.cost_of(ctx.usage)
    headers = [(b"x-selixes-cost-usd", nano_to_usd(ctx.cost_nano).encode())]
    hold = ctx.hold
    if hold is not None and hold.room_nano is not None:
        # The tightest budget's room once this request settles.
        room = hold.room_nano + hold.reserved_nano - min(ctx.cost_nano, hold.reserved_nano)
        headers.append((b"x-selixes-budget-remaining-usd", nano_to_usd(max(room, 0)).encode()))
    return headers


def _attempt(deployment: DeploymentEntry, outcome: str, started: float) -> Attempt:
    return {
        "deployment_id": deployment["id"],
        "provider": deployment["provider"],
        "model": deployment["model"],
        "outcome": outcome,
        "latency_ms": int((time.perf_counter() - started) * 1000),
    }


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
