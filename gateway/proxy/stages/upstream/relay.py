"""The answer on its way back: whole, or streamed and relayed as each read arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gateway.proxy.budget.hold import answer_headers, overran, price_answer
from gateway.proxy.context import RequestContext
from gateway.proxy.dialects import Dialect
from gateway.proxy.errors import AttemptFailed, StreamProtocolError, UpstreamFailure
from gateway.proxy.http import Send, send_json
from gateway.proxy.providers.base import ProviderAdapter, Usage
from gateway.proxy.upstream_client import UpstreamResponse
from gateway.shared.money import nano_to_usd

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
Headers = list[tuple[bytes, bytes]]


class Metered(Protocol):
    usage: Usage


async def whole(
    ctx: RequestContext,
    send: Send,
    adapter: ProviderAdapter,
    dialect: Dialect,
    response: UpstreamResponse,
    headers: Headers,
) -> None:
    """Read the whole answer, turn it into the client's format, and send it priced."""
    try:
        body = await response.read(MAX_RESPONSE_BYTES)
    except UpstreamFailure as e:
        raise AttemptFailed(e.code, e.status) from e
    ctx.mark_first_byte()
    alias = ctx.model_requested or ""
    try:
        if ctx.operation == "chat":
            answer, usage = adapter.chat_response(body, alias)
            answer = dialect.from_canonical(answer, alias)
        else:
            answer, usage = adapter.embeddings_response(body, alias)
    except (StreamProtocolError, ValueError, KeyError, TypeError) as e:
        raise AttemptFailed("malformed_response", 502) from e
    ctx.usage = usage
    await send_json(send, 200, answer, headers + answer_headers(ctx))


async def stream(
    ctx: RequestContext,
    send: Send,
    adapter: ProviderAdapter,
    dialect: Dialect,
    response: UpstreamResponse,
    headers: Headers,
) -> None:
    """Decode the provider's stream into canonical chunks and encode them for the client."""
    alias = ctx.model_requested or ""
    decoder = adapter.chat_stream(alias)
    encoder = dialect.stream_encoder(ctx.payload, alias)

    def translate(data: bytes) -> bytes:
        return b"".join(encoder.encode(c) for c in decoder.feed(data))

    def end() -> bytes:
        tail = b"".join(encoder.encode(c) for c in decoder.close())
        return tail + encoder.finish(decoder.usage)

    await relay(ctx, send, response, headers, translate, end, encoder.error, decoder)


async def relay(
    ctx: RequestContext,
    send: Send,
    response: UpstreamResponse,
    headers: Headers,
    step: Callable[[bytes], bytes],
    end: Callable[[], bytes],
    error_event: Callable[[str], bytes],
    meter: Metered,
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
        await send({"type": "http.response.body", "body": error_event(message), "more_body": True})

    try:
        async for data in response.chunks():
            out = step(data)
            if overran(ctx, meter.usage):
                # Cut rather than overspend: what was reserved is all it may cost.
                await begin()
                await fail("The answer exceeded the tokens reserved for it and was cut.")
                break
            await forward(out)
        else:
            await forward(end())
    except (StreamProtocolError, UpstreamFailure) as e:
        if not started:
            raise AttemptFailed("stream_broken", 502) from e
        if ctx.deployment is not None:  # the provider broke it (an overrun cut is ours)
            ctx.error_provider = ctx.deployment["provider"]
        await fail("The provider's stream broke off; the answer is incomplete.")
    finally:
        ctx.usage = meter.usage
    # CONTRACT.md section 5: a stream's cost travels in its last SSE comment line.
    cost = nano_to_usd(price_answer(ctx)).encode()
    await begin()  # a provider may close a stream without sending anything
    await send(
        {
            "type": "http.response.body",
            "body": b": x-selixes-cost-usd=" + cost + b"\n\n",
            "more_body": False,
        }
    )
