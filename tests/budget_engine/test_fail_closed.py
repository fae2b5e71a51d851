"""Without Redis, a budgeted request is refused (503), never served unchecked."""

from __future__ import annotations

import asyncio

import pytest

from gateway.proxy.context import RequestContext
from gateway.proxy.errors import ServiceUnavailable
from gateway.proxy.http import Message, Receive, Scope, Send
from gateway.proxy.pricing import price_table
from gateway.proxy.redis_client import AsyncRedisClient, proxy_redis
from gateway.proxy.stages.admission import AdmissionStage
from tests.factories.snapshots import budget, key_entry, tenant
from tests.proxy.providers.wire import deployment
from tests.servers import free_port


async def test_budgeted_requests_fail_closed_when_redis_is_unreachable() -> None:
    unreachable = proxy_redis(f"redis://127.0.0.1:{free_port()}/0")
    assert await _admission_refused(unreachable)
    await unreachable.aclose()


async def test_budgeted_requests_fail_closed_when_redis_accepts_but_never_answers() -> None:
    # A Redis that takes the command and hangs must still end the request
    # (after the client's read timeout, shortened here from the proxy's 2 s).
    accepted: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # read nothing, answer nothing

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = proxy_redis(f"redis://127.0.0.1:{port}/0", read_timeout_s=0.3)
    try:
        assert await asyncio.wait_for(_admission_refused(silent), timeout=10)
        assert accepted  # it did connect: the read timed out, not the connect
    finally:
        await silent.aclose()
        server.close()
        for writer in accepted:
            writer.close()


async def _admission_refused(client: AsyncRedisClient) -> bool:
    """Run a budgeted request through admission on `client`; True if it was refused unsent."""
    served: list[str] = []

    async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
        served.append("sent upstream")

    stage = AdmissionStage(upstream, client, price_table(), 60)
    ctx = RequestContext(request_id="r1", method="POST", path="/v1/chat/completions")
    ctx.tenant = tenant(budget("b", 10**9))
    ctx.key = key_entry()
    ctx.operation, ctx.dialect = "chat", "openai"
    ctx.payload = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    ctx.candidates = [deployment("openai", "gpt-4o-mini")]

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    with pytest.raises(ServiceUnavailable, match="cannot check budgets"):
        await stage({"state": {"ctx": ctx}}, receive, send)
    return served == []
