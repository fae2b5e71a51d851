"""A body passed through in the provider's own format: its answer goes back byte for byte.

Only the model was replaced on the way in (NativePassthrough); on the way
out usage is read from the answer (or scanned from the stream as it passes)
without changing it, so provider-only fields (cache_control, thinking) survive.
"""

from __future__ import annotations

from gateway.proxy.budget.hold import answer_headers
from gateway.proxy.context import RequestContext
from gateway.proxy.dialects import Dialect
from gateway.proxy.errors import AttemptFailed, StreamProtocolError, UpstreamFailure
from gateway.proxy.http import JSON_CONTENT_TYPE, Send
from gateway.proxy.providers.base import NativePassthrough
from gateway.proxy.stages.upstream.relay import MAX_RESPONSE_BYTES, Headers, relay
from gateway.proxy.upstream_client import UpstreamResponse


async def native(
    ctx: RequestContext,
    send: Send,
    passthrough: NativePassthrough,
    dialect: Dialect,
    response: UpstreamResponse,
    headers: Headers,
) -> None:
    """Forward the provider's answer byte for byte, reading usage on the way."""
    if not ctx.stream:
        try:
            body = await response.read(MAX_RESPONSE_BYTES)
            ctx.usage = passthrough.native_usage(body)
        except UpstreamFailure as e:
            raise AttemptFailed(e.code, e.status) from e
        except (StreamProtocolError, ValueError, KeyError, TypeError) as e:
            raise AttemptFailed("malformed_response", 502) from e
        ctx.mark_first_byte()
        start_headers = [
            JSON_CONTENT_TYPE,
            (b"content-length", str(len(body)).encode()),
            *answer_headers(ctx),
        ]
        await send(
            {"type": "http.response.start", "status": 200, "headers": start_headers + headers}
        )
        await send({"type": "http.response.body", "body": body})
        return
    scanner = passthrough.native_stream()

    def scan(data: bytes) -> bytes:
        scanner.feed(data)  # raises on an error event before it is forwarded
        return data

    def end() -> bytes:
        scanner.close()
        return b""

    encoder = dialect.stream_encoder(ctx.payload, ctx.model_requested or "")
    await relay(ctx, send, response, headers, scan, end, encoder.error, scanner)
