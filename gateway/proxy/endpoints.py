"""The innermost handlers, reached once every stage has passed the request."""

from __future__ import annotations

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import NotFound
from gateway.proxy.http import Receive, Scope, Send, send_json


async def list_models(ctx: RequestContext, send: Send) -> None:
    """GET /v1/models: the org's model aliases (routes arrive with the proxy issue)."""
    await send_json(send, 200, {"object": "list", "data": []})


async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
    ctx: RequestContext = scope["state"]["ctx"]
    if scope["method"] == "GET" and scope["path"] == "/v1/models":
        await list_models(ctx, send)
        return
    raise NotFound(f"Unknown endpoint {scope['method']} {scope['path']}.", code="unknown_endpoint")
