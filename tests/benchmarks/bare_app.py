"""A bare ASGI app answering the same JSON as GET /v1/models: the floor the proxy is compared to."""

from __future__ import annotations

from gateway.proxy.http import Receive, Scope, Send, send_json


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send_json(send, 200, {"object": "list", "data": []})
