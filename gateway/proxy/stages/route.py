"""Route stage: read and check the request body, then find the alias's deployments.

It reads the body once (bounded), parses it, and puts the payload and the
candidate deployments on the context for the stages inside it. The full
strategies (latency, cost, weighted, circuit breakers) come with the
routing issue; here the order is the route's order.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import InvalidRequest, NotFound
from gateway.proxy.http import ASGIApp, Receive, Scope, Send, header, read_body

# path -> (operation, client dialect)
OPERATIONS: dict[str, tuple[str, str]] = {
    "/v1/chat/completions": ("chat", "openai"),
    "/v1/messages": ("chat", "anthropic"),
    "/v1/embeddings": ("embeddings", "openai"),
}


# Headers an Anthropic client sends that change what the provider does; they
# are handed on only when the body goes through natively to Anthropic.
ANTHROPIC_CLIENT_HEADERS = (b"anthropic-beta", b"anthropic-version")
_HEADER_VALUE_MAX = 1024


def client_headers(scope: Scope) -> dict[str, str]:
    """The Anthropic client headers worth forwarding, refused if they could smuggle anything."""
    found: dict[str, str] = {}
    for name in ANTHROPIC_CLIENT_HEADERS:
        value = header(scope, name)
        if value is None:
            continue
        if len(value) > _HEADER_VALUE_MAX or not all(32 <= b < 127 for b in value):
            raise InvalidRequest(
                f"The '{name.decode()}' header must be printable ASCII of at most"
                f" {_HEADER_VALUE_MAX} bytes.",
                code="invalid_header",
            )
        found[name.decode()] = value.decode("ascii")
    return found


def parse_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"The body is not valid JSON: {e.msg}.", code="invalid_json") from e
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.", code="invalid_json")
    return payload


def check_chat(payload: dict[str, Any], dialect: str) -> None:
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    if not all(isinstance(m, dict) for m in messages):
        raise InvalidRequest("Each message must be an object.", param="messages")
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean.", param="stream")
    if dialect == "anthropic" and not isinstance(payload.get("max_tokens"), int):
        raise InvalidRequest("'max_tokens' must be an integer.", param="max_tokens")


def check_embeddings(payload: dict[str, Any]) -> None:
    given = payload.get("input")
    if isinstance(given, str) and given:
        return
    if isinstance(given, list) and given:
        return
    raise InvalidRequest("'input' must be a non-empty string or array.", param="input")


class RouteStage:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        operation = OPERATIONS.get(scope["path"])
        if operation is None or scope["method"] != "POST":
            await self.app(scope, receive, send)  # /v1/models and unknown paths
            return
        ctx.operation, ctx.dialect = operation
        if ctx.dialect == "anthropic":
            ctx.client_headers = client_headers(scope)
        payload = parse_payload(await read_body(receive, self.max_body_bytes))
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("'model' must be a non-empty string.", param="model")
        ctx.model_requested = model
        if ctx.operation == "chat":
            check_chat(payload, ctx.dialect)
            ctx.stream = bool(payload.get("stream", False))
        else:
            check_embeddings(payload)
        assert ctx.tenant is not None
        route = ctx.tenant["routes"].get(model)
        if route is None:
            raise NotFound(
                f"The model '{model}' does not exist for this organization.",
                code="model_not_found",
                param="model",
            )
        ctx.payload = payload
        ctx.candidates = list(route["deployments"])
        await self.app(scope, receive, send)
