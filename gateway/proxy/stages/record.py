"""Record stage (outermost): request id, timing, and the one place errors become responses."""

from __future__ import annotations

import logging
import uuid

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import ProxyError
from gateway.proxy.http import ASGIApp, Message, Receive, Scope, Send, send_json

log = logging.getLogger(__name__)


class RecordStage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = RequestContext(
            request_id=uuid.uuid4().hex, method=scope["method"], path=scope["path"]
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
            await self.app(scope, receive, send_with_id)
        except ProxyError as e:
            ctx.error_type = e.type
            if started:
                raise
            await send_json(send_with_id, e.status, e.body(), e.headers())
        except Exception:
            # Never a traceback to the client; the id ties the log line to the request.
            log.exception("unhandled error request_id=%s", ctx.request_id)
            ctx.error_type = "api_error"
            if started:
                raise
            error = ProxyError("Internal error. Quote the x-request-id header to support.")
            await send_json(send_with_id, 500, error.body())
