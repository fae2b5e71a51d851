"""Route stage: read and check the request body, then find the alias's deployments.

It reads the body once (bounded), parses it, and puts the payload and the
candidate deployments on the context for the stages inside it: the route's
deployments in its strategy's order, minus open breakers and retry-afters
(gateway.proxy.routing). It runs before admission, so a budget's fallback
follows the same order.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import DeploymentsRateLimited, InvalidRequest, NotFound
from gateway.proxy.http import ASGIApp, Receive, Scope, Send, header, read_body
from gateway.proxy.recorded import check_recorded
from gateway.proxy.routing.failover import Failover
from gateway.proxy.routing.models import answer_without_provider
from gateway.proxy.routing.router import expected_size
from gateway.proxy.stages.deps import StageDeps

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


# orjson parses 1,024 levels of nesting but writes only 254, and adapters
# write the request again (some a few levels deeper): a deeper body would
# fail as a 500 on its way out, so it is refused on its way in. No real
# request comes near: providers cap schemas at 5 to 10 levels.
MAX_JSON_DEPTH = 128


def parse_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"The body is not valid JSON: {e.msg}.", code="invalid_json") from e
    if not isinstance(payload, dict):
        raise InvalidRequest("The body must be a JSON object.", code="invalid_json")
    # Brackets counted in C bound the depth from above, so only a body with
    # more than MAX_JSON_DEPTH of them is walked.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _deeper_than(
        payload, MAX_JSON_DEPTH
    ):
        raise InvalidRequest(
            f"The body is nested deeper than {MAX_JSON_DEPTH} levels.", code="too_deep"
        )
    return payload


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `value` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


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
    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        self.app = app
        self.max_body_bytes = deps.settings.max_body_bytes
        self.router = deps.router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        operation = OPERATIONS.get(scope["path"])
        if operation is None or scope["method"] != "POST":
            # /v1/models, or a 404: nothing inside this stage sees such a request.
            await answer_without_provider(ctx, scope, send)
            return
        ctx.operation, ctx.dialect = operation
        if ctx.dialect == "anthropic":
            ctx.client_headers = client_headers(scope)
        body = await read_body(receive, self.max_body_bytes)
        payload = parse_payload(body)
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("'model' must be a non-empty string.", param="model")
        ctx.model_requested = check_recorded(model, "model")
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
        ctx.body_bytes = len(body)
        # Only the cost strategy weighs the request's size.
        size = (
            expected_size(payload, len(body), ctx.dialect, ctx.operation)
            if route["strategy"] == "cost"
            else ()
        )
        plan = await self.router.choose(ctx.tenant, route, *size)
        ctx.strategy = route["strategy"]
        if not plan.candidates:
            raise DeploymentsRateLimited(
                f"Every deployment of '{model}' asked to be left alone for now (429 retry-after).",
                plan.retry_after_ms / 1000,
            )
        ctx.candidates = plan.candidates
        ctx.routing_health = plan.health
        deadline_s = route.get("deadline_s")
        ctx.failover = Failover(
            ctx.tenant["org_id"],
            self.router.book,
            self.router.config,
            max_attempts=route.get("max_attempts"),
            deadline_at=ctx.started_at + deadline_s if deadline_s else None,
            probing=plan.probing,
            request_started=ctx.started_at,
        )
        await self.app(scope, receive, send)
