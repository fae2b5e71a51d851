"""The budget promise under fire: several proxy processes, 500 concurrent requests; a proxy killed.

Input is free and every answer is exactly max_tokens = 10 output tokens at
1000 USD per Mtok, so each served request costs 0.01 USD, worst case and
actual alike, and a budget of 1 USD covers exactly 100 of them.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psutil
import pytest

from gateway.budgets.ledger import reap_expired
from gateway.budgets.models import LedgerEntry, LedgerKind
from gateway.shared import budget_layout as layout
from infra.run import uvicorn_command
from observability.drain import drain_usage_stream
from tests.conftest import Persona
from tests.factories.budgets import OUTPUT_ONLY, add_budget, budget_shown, budget_state
from tests.gateway.proxy.conftest import Gateway, proxy_env
from tests.servers import free_port, serving

pytestmark = pytest.mark.django_db(transaction=True)
SERVED_LIMIT = 100


@contextmanager
def three_proxies() -> Iterator[str]:
    """Three proxy processes behind one port, as SELIXES_PROXY_WORKERS=3 runs them."""
    port = free_port()
    command = uvicorn_command("gateway.proxy.asgi:app", port, "3")
    with serving(command, port, proxy_env(), "proxies") as url:
        yield url


def deployment(gateway: Gateway, model: str) -> dict[str, Any]:
    return {**gateway.openai_compatible(model), "price": OUTPUT_ONLY}


async def one_request(
    client: httpx.AsyncClient, url: str, key: str, model: str, stream: bool, leave: bool
) -> int:
    body = {
        "model": model,
        "max_tokens": 10,
        "stream": stream,
        "messages": [{"role": "user", "content": "prove it"}],
    }
    headers = {"authorization": f"Bearer {key}"}
    async with client.stream("POST", url, json=body, headers=headers) as response:
        if leave and response.status_code == 200:
            async for _ in response.aiter_bytes():
                break  # the client leaves after the first bytes
            return 200
        await response.aread()
        return response.status_code


def test_500_concurrent_requests_on_3_processes_never_overspend(
    gateway: Gateway, alice: Persona, redis_client: Any
) -> None:
    gateway.route("proof", deployment(gateway, "mock-chunks-10"))
    # "flaky" fails over: its first deployment answers 500.
    gateway.route(
        "flaky", deployment(gateway, "mock-error-500"), deployment(gateway, "mock-chunks-10")
    )
    # "slow" streams slowly, so the clients that leave do so mid-stream.
    gateway.route("slow", deployment(gateway, "mock-chunks-10-pause-20"))
    budget = add_budget(gateway, alice, "1.000000")

    plan = []
    for i in range(500):
        model = ("proof", "flaky", "slow")[i % 3]
        plan.append((model, i % 2 == 0, model == "slow" and i % 4 == 0))

    async def fire(proxies_url: str) -> list[int]:
        limits = httpx.Limits(max_connections=500)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            url = f"{proxies_url}/v1/chat/completions"
            return await asyncio.gather(
                *(
                    one_request(client, url, gateway.key, model, stream, leave)
                    for model, stream, leave in plan
                )
            )

    # Started once the budget exists, so every process reads it with its first
    # request: no waiting for caches to notice it.
    with three_proxies() as proxies_url:
        statuses = asyncio.run(fire(proxies_url))
    assert sorted(set(statuses)) == [200, 402], statuses
    assert statuses.count(200) == SERVED_LIMIT

    state = budget_state(gateway, budget["id"])
    assert (state["spent_usd"], state["reserved_usd"]) == ("1.000000", "0.000000")
    assert redis_client.hlen(layout.reservations_key(str(alice.org.id))) == 0
    drain_usage_stream()
    charged = LedgerEntry.objects.filter(org=alice.org, cost_nano__gt=0)
    assert charged.count() == SERVED_LIMIT
    assert sum(entry.cost_nano for entry in charged) == 10**9  # 1 USD in nano-USD


def test_a_killed_proxys_reservation_is_reaped_at_its_estimate(
    gateway: Gateway, alice: Persona, redis_client: Any
) -> None:
    gateway.route("slow", deployment(gateway, "mock-chunks-10-pause-2000"))
    budget = add_budget(gateway, alice, "1.000000")
    port = free_port()
    command = uvicorn_command("gateway.proxy.asgi:app", port, "1")
    env = proxy_env(SELIXES_RESERVATION_TTL_S="1")
    with serving(command, port, env, "doomed proxy") as url:
        server = psutil.Process(_process_on(port))
        doomed = [server, *server.children(recursive=True)]
        with httpx.stream(
            "POST",
            f"{url}/v1/chat/completions",
            headers={"authorization": f"Bearer {gateway.key}"},
            json={
                "model": "slow",
                "stream": True,
                "max_tokens": 10,
                "messages": [{"role": "user", "content": "hold on"}],
            },
            timeout=30,
        ) as response:
            assert response.status_code == 200
            # One iterator, kept: a dropped one closes the stream, and the proxy
            # would settle the request as a client that left before the kill.
            chunks = response.iter_bytes()
            next(chunks)  # the first chunk: the request is mid-stream
            reservations = layout.reservations_key(str(alice.org.id))
            assert redis_client.hlen(reservations) == 1  # admitted with its worst case held
            for process in doomed:  # no shutdown, no flush: as a crash or the OOM killer
                process.send_signal(signal.SIGKILL)
    assert redis_client.hlen(reservations) == 1  # left behind by the dead proxy
    assert budget_shown(gateway, budget["id"])["reserved_usd"] == "0.010000"

    assert reap_expired(now_ms=int(time.time() * 1000) + 2000) == 1
    state = budget_state(gateway, budget["id"])
    assert (state["spent_usd"], state["reserved_usd"]) == ("0.010000", "0.000000")
    entry = LedgerEntry.objects.get(org=alice.org)
    assert (entry.kind, entry.cost_nano) == (LedgerKind.REAPED, 10_000_000)
    assert redis_client.hlen(reservations) == 0


def _process_on(port: int) -> int:
    """The pid of the process listening on `port` (the uvicorn serving it)."""
    for connection in psutil.net_connections("tcp"):
        address = connection.laddr
        if connection.status == psutil.CONN_LISTEN and address and address.port == port:
            assert connection.pid is not None
            return connection.pid
    raise LookupError(f"nothing listens on {port}")
