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
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

from gateway.proxy.context import RequestContext
from gateway.proxy.dialects import DIALECTS, JSON, Dialect
from gateway.proxy.endpoints import dispatch
from gateway.proxy.errors import ProxyError
from gateway.proxy.http import JSON_CONTENT_TYPE, Receive, Scope, Send, send_json
from gateway.proxy.keyring import Keyring, MissingProviderKey
from gateway.proxy.providers import adapter_for, native_adapter_for
from gateway.proxy.providers.base import (
    MisconfiguredDeployment,
    NativePassthrough,
    ProviderAdapter,
    StreamProtocolError,
    UpstreamError,
    Usage,
)
from gateway.proxy.snapshot import DeploymentEntry
from gateway.proxy.upstream_client import UpstreamClient, UpstreamFailure, UpstreamResponse
from gateway.proxy.usage import Attempt

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

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after_s is None:
            return []
        return [(b"retry-after", str(max(1, round(self.retry_after_s))).encode())]


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
    def __init__(self, client: UpstreamClient, keyring: Keyring) -> None:
        self.client = client
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        if not ctx.operation:
            await dispatch(scope, receive, send)
            return
        serving = asyncio.ensure_future(self._serve(ctx, send))
        watching = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await asyncio.wait({serving, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watching.cancel()
        if not serving.done():
            # The client left: cancelling closes the upstream response too.
            ctx.client_disconnected = True
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            return
        serving.result()  # re-raise ProxyErrors for the record stage

    async def _serve(self, ctx: RequestContext, send: Send) -> None:
        dialect = DIALECTS[ctx.dialect]
        canonical = dialect.to_canonical(ctx.payload)
        failures: list[_AttemptFailed] = []
        for deployment in ctx.candidates:
            started = time.perf_counter()
            try:
                await self._attempt(ctx, send, dialect, canonical, deployment)
            except _AttemptFailed as failure:
                failures.append(failure)
                ctx.attempts.append(_attempt(deployment, failure.outcome, started))
                continue
            ctx.attempts.append(_attempt(deployment, "ok", started))
            return
        chain = "; ".join(f"{a['provider']}/{a['model']}: {a['outcome']}" for a in ctx.attempts)
        retry_after = min(
            (f.retry_after_s for f in failures if f.retry_after_s is not None), default=None
        )
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
        """Serve from one deployment, or raise _AttemptFailed before any byte is sent."""
        assert ctx.tenant is not None and ctx.model_requested is not None
        native: NativePassthrough | None = None
        try:
            adapter = adapter_for(deployment["provider"])
            api_key = self.keyring.key_for(ctx.tenant, deployment)
            if ctx.operation == "chat":
                # A body already in the provider's own format goes through as is,
                # so provider-only fields (cache_control, thinking) survive.
                native = native_adapter_for(deployment["provider"], ctx.dialect)
            if native is not None:
                request = native.native_request(ctx.payload, deployment, api_key, ctx.stream)
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
            start_headers = [JSON_CONTENT_TYPE, (b"content-length", str(len(body)).encode())]
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
        headers = [(b"x-selixes-model", ctx.deployment["model"].encode())]
        if tried:
            headers.append((b"x-selixes-fallbacks", tried.encode()))
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
        await send_json(send, 200, answer, headers)

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

        async def forward(data: bytes) -> None:
            nonlocal started
            if not data:
                return
            if not started:
                started = True
                ctx.mark_first_byte()
                await send(
                    {"type": "http.response.start", "status": 200, "headers": SSE_HEADERS + headers}
                )
            await send({"type": "http.response.body", "body": data, "more_body": True})

        try:
            async for data in response.chunks():
                await forward(step(data))
            await forward(end())
        except (StreamProtocolError, UpstreamFailure) as e:
            if not started:
                raise _AttemptFailed("stream_broken", 502) from e
            ctx.error_type = "upstream_error"
            message = "The provider's stream broke off; the answer is incomplete."
            await send(
                {"type": "http.response.body", "body": error_event(message), "more_body": True}
            )
        finally:
            ctx.usage = meter.usage
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Metered(Protocol):
    usage: Usage


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
