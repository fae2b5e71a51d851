"""Without Redis, a budgeted request is refused (503), never served unchecked."""

from __future__ import annotations

import asyncio

import pytest

from gateway.proxy.budget.engine import Candidate
from gateway.proxy.budget.hold import Reservations
from gateway.proxy.budget.plan import PlanCache
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import ServiceUnavailable
from gateway.proxy.pricing import price_for, price_table, worst_case_cost_nano
from gateway.proxy.redis_client import AsyncRedisClient, proxy_redis
from tests.factories.snapshots import budget, key_entry, tenant
from tests.gateway.proxy.providers.wire import deployment
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
    """Reserve for a budgeted request on `client`; True if it was refused with nothing held."""
    ctx = RequestContext(request_id="r1", method="POST", path="/v1/chat/completions")
    ctx.tenant = tenant(budget("b", 10**9))
    ctx.key = key_entry()
    ctx.operation, ctx.dialect = "chat", "openai"
    ctx.payload = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    target = deployment("openai", "gpt-4o-mini")
    price = price_for(target, None, price_table())
    assert price is not None
    offers = [Candidate(target, price, 5, worst_case_cost_nano(price, 100, 5))]
    plan = PlanCache().plan(ctx.tenant, ctx.key, ctx.arrived_at)

    with pytest.raises(ServiceUnavailable, match="cannot check budgets"):
        await Reservations(client, 60).reserve(ctx, plan, offers)
    return ctx.hold is None
