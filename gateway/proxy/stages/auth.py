"""Auth stage: key → HMAC → tenant snapshot; anything else is 401 (503 if Redis is down)."""

from __future__ import annotations

import redis.exceptions

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import AuthenticationFailed, ServiceUnavailable
from gateway.proxy.http import ASGIApp, Receive, Scope, Send, header
from gateway.proxy.stages.deps import StageDeps
from gateway.shared import credentials


def presented_key(scope: Scope) -> str | None:
    """Return the key from `Authorization: Bearer …` or `x-api-key` (the Anthropic SDK's header)."""
    authorization = header(scope, b"authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(b" ")
        if scheme.lower() == b"bearer":
            return value.strip().decode("latin-1")
    api_key = header(scope, b"x-api-key")
    return api_key.strip().decode("latin-1") if api_key is not None else None


class AuthStage:
    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        self.app = app
        self.snapshots = deps.snapshots
        self.hash_key = deps.settings.hash_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        key = presented_key(scope)
        if not key:
            raise AuthenticationFailed("Missing API key. Send 'Authorization: Bearer sk-sel-…'.")
        if not credentials.looks_like(key, credentials.API_KEY_PREFIX):
            raise AuthenticationFailed("Invalid API key.")
        key_hash = credentials.hash_secret(self.hash_key, key)
        try:
            org_id = await self.snapshots.org_for_key(key_hash)
            tenant = await self.snapshots.get(org_id) if org_id else None
        except redis.exceptions.RedisError as e:
            # Fail closed: without the snapshot we cannot tell a revoked key.
            raise ServiceUnavailable("The gateway cannot verify keys right now.") from e
        entry = (
            tenant["keys"].get(credentials.display_prefix(key, credentials.API_KEY_PREFIX))
            if tenant
            else None
        )
        if entry is None or not credentials.matches(entry["hash"], key_hash):
            raise AuthenticationFailed("Invalid or revoked API key.")
        ctx.tenant = tenant
        ctx.key = entry
        await self.app(scope, receive, send)
