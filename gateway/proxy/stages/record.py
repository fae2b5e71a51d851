"""Record stage (outermost): request id, timing, errors into responses, the usage event, metrics.

It is the one place a ProxyError becomes an HTTP answer, and on the way out
it emits exactly one usage event per request, rejected ones included.
"""

from __future__ import annotations

import logging
import os
import time

from gateway.proxy import usage
from gateway.proxy.budget import hold as budget_hold
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import HeadersTooLarge, InvalidRequest, ProxyError
from gateway.proxy.http import ASGIApp, Message, Receive, Scope, Send, send_json
from gateway.proxy.recorded import escaped, has_control_character
from gateway.proxy.request_metrics import RequestMetrics
from gateway.proxy.stages.deps import StageDeps
from gateway.shared.safe_errors import describe

log = logging.getLogger(__name__)
MAX_HEADER_BYTES = 32 * 1024


class RecordStage:
    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        self.app = app
        self.emitter = deps.emitter
        self.script_flags = deps.settings.redis_script_flags
        self.metrics = RequestMetrics(deps.prices)
        self.traces = deps.traces

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
            settlement = budget_hold.settle(ctx, self.script_flags)  # prices the answer first
            event = usage.event_from(ctx)
            if ctx.trace is not None or ctx.trace_dropped is not None:
                self.traces.settle(ctx, event)  # sealed here, before it leaves memory
            self.emitter.emit(event, settlement)
            self.metrics.observe(ctx, time.perf_counter() - ctx.started_at)
