"""Record stage (outermost): request id, timing, errors into responses, the usage event.

It is the one place a ProxyError becomes an HTTP answer, and on the way out
it emits exactly one usage event per request, rejected ones included.
"""

from __future__ import annotations

import logging
import os
import time

from gateway.proxy import usage
from gateway.proxy.budget.engine import settle_call
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import HeadersTooLarge, InvalidRequest, ProxyError
from gateway.proxy.http import ASGIApp, Message, Receive, Scope, Send, send_json
from gateway.proxy.lua_scripts import ScriptCall
from gateway.proxy.recorded import escaped, has_control_character
from gateway.proxy.safe_errors import describe
from gateway.proxy.usage import UsageEmitter

log = logging.getLogger(__name__)
MAX_HEADER_BYTES = 32 * 1024


class RecordStage:
    def __init__(self, app: ASGIApp, emitter: UsageEmitter) -> None:
        self.app = app
        self.emitter = emitter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        # The path is recorded even when nothing else is (no key, unknown
        # path): one with a control character is refused, and recorded escaped.
        clean_path = not has_control_character(path)
        # 128 random bits as 32 hex digits, like uuid4().hex without building a UUID.
        ctx = RequestContext(
            request_id=os.urandom(16).hex(),
            method=scope["method"],
            path=path if clean_path else escaped(path),
        )
        scope["state"] = {"ctx": ctx}
        request_id_header = (b"x-request-id", ctx.request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                ctx.status = message["status"]
                message["headers"] = [*message.get("headers", []), request_id_header]
            await send(message)

        try:
            if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
                raise HeadersTooLarge(f"Request headers exceed {MAX_HEADER_BYTES} bytes.")
            if not clean_path:
                raise InvalidRequest(
                    "The path may not contain control characters.", code="invalid_characters"
                )
            await self.app(scope, receive, send_with_id)
        except ProxyError as e:
            ctx.error_type, ctx.error_code = e.type, e.code
            if not started:
                await send_json(send_with_id, e.status, e.body(), e.headers())
        except Exception as e:
            # Never a traceback to the client; the id ties the log line to the
            # request. Never the message in the log: it may quote the payload.
            log.error("unhandled error request_id=%s: %s", ctx.request_id, describe(e))
            ctx.error_type, ctx.error_code = "api_error", "internal_error"
            if not started:
                error = ProxyError("Internal error. Quote the x-request-id header to support.")
                await send_json(send_with_id, 500, error.body())
        finally:
            if ctx.status == 0:
                ctx.status = 499 if ctx.client_disconnected else 500
            self.emitter.emit(usage.event_from(_priced(ctx)), _settlement(ctx))


def _priced(ctx: RequestContext) -> RequestContext:
    """Price an answer the upstream stage could not finish pricing (the client left)."""
    if ctx.cost_nano is None and ctx.deployment is not None and ctx.offer is not None:
        ctx.cost_nano = ctx.offer.cost_of(ctx.usage, complete=not ctx.client_disconnected)
    return ctx


def _settlement(ctx: RequestContext) -> ScriptCall | None:
    """Every admitted request settles, whatever happened to it; a rejected one held nothing."""
    if ctx.hold is None:
        return None
    used = ctx.usage.input_tokens + ctx.usage.output_tokens
    return settle_call(ctx.hold, ctx.cost_nano or 0, used, int(time.time() * 1000))
