"""What the route stage answers itself, without a provider: the model list, and 404 for the rest."""

from __future__ import annotations

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import NotFound
from gateway.proxy.http import Scope, Send, send_json


async def list_models(ctx: RequestContext, send: Send) -> None:
    """GET /v1/models: the org's model aliases (its routes), in the OpenAI list shape."""
    assert ctx.tenant is not None
    data = [
        {"id": alias, "object": "model", "created": 0, "owned_by": "selixes"}
        for alias in sorted(ctx.tenant["routes"])
    ]
    await send_json(send, 200, {"object": "list", "data": data})


async def answer_without_provider(ctx: RequestContext, scope: Scope, send: Send) -> None:
    """Answer a request that names no operation: the model list, or an unknown endpoint."""
    if scope["method"] == "GET" and scope["path"] == "/v1/models":
        await list_models(ctx, send)
        return
    raise NotFound(f"Unknown endpoint {scope['method']} {scope['path']}.", code="unknown_endpoint")
