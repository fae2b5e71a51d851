"""Routing and failover through real proxy processes, against the mock provider's failure modes.

Two proxy processes on two ports share one Redis; requests alternate between
them, so what one process learns (an open breaker, a retry-after, latency)
must reach the other through the shared state. The mock tells the
deployments apart by the scenario in their model names, and counts the
requests each received (`by_scenario`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest

from tests.gateway.mock_provider.conftest import sse_events
from tests.gateway.proxy.conftest import Gateway, ProxyServer, serving_proxy
from tests.gateway.proxy.relay import relay_to
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)

COOLDOWN_S = 4.0
ROUTING_ENV = {
    "SELIXES_BREAKER_MIN_REQUESTS": "4",
    "SELIXES_BREAKER_COOLDOWN_S": str(COOLDOWN_S),
    "SELIXES_BREAKER_PROBES": "1",
    "SELIXES_ROUTING_SYNC_S": "0.1",
}


@pytest.fixture(scope="module")
def proxies() -> Iterator[list[ProxyServer]]:
    """Two proxy processes with a short breaker cooldown, each on its own port."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(serving_proxy(name=name, **ROUTING_ENV))
            for name in ("first", "second")
        ]


class Client:
    """Requests to the proxies in turn, as a load balancer in front of them would send them."""

    def __init__(self, gateway: Gateway, servers: list[ProxyServer]) -> None:
        self.gateway = gateway
        self.servers = servers
        self.urls = [server.url for server in servers]
        self.turn = 0

    def put_route(
        self, alias: str, strategy: str, *deployments: dict[str, Any], **extra: Any
    ) -> None:
        response = self.gateway.api.put(
            f"/api/v1/routes/{alias}/",
            {"strategy": strategy, "deployments": list(deployments), **extra},
            format="json",
        )
        assert response.status_code in (200, 201), response.content

    def chat(self, alias: str, stream: bool = False) -> httpx.Response:
        url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        body = {"model": alias, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(
            f"{url}/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {self.gateway.key}"},
            timeout=30,
        )

    def served_by(self, alias: str, count: int, workers: int = 4) -> list[str]:
        """Send `count` requests, `workers` at a time; the deployment model each was served by."""

        def one(_: int) -> str:
            response = self.chat(alias)
            assert response.status_code == 200, response.text
            return response.headers["x-selixes-model"]

        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(one, range(count)))

    def received(self, label: str) -> int:
        counts: dict[str, int] = self.gateway.recorded()["by_scenario"]
        return counts.get(label, 0)


@pytest.fixture
def client(gateway: Gateway, proxies: list[ProxyServer]) -> Client:
    return Client(replace(gateway, proxy_url=proxies[0].url), proxies)


def deployment(gateway: Gateway, model: str, **extra: Any) -> dict[str, Any]:
    return {**gateway.openai_compatible(model), **extra}


def usage_events(redis_client: Any) -> list[dict[str, Any]]:
    return [orjson.loads(fields[b"e"]) for _, fields in redis_client.xrange("sel:usage")]


def route_id(gateway: Gateway, alias: str) -> str:
    route: str = gateway.api.get(f"/api/v1/routes/{alias}/").json()["id"]
    return route


def breaker_states(server: ProxyServer, route: str) -> dict[int, str]:
    """Each deployment's breaker state ("0.0" closed, "1.0" open) as one process's metrics say."""
    states = {}
    for line in httpx.get(f"{server.metrics_url}/metrics", timeout=10).text.splitlines():
        prefix = f'selixes_deployment_breaker_state{{deployment="{route}:'
        if line.startswith(prefix):
            index, _, value = line[len(prefix) :].partition('"} ')
            states[int(index)] = value
    return states


def all_know_open(client: Client, route: str, *indexes: int) -> bool:
    """Every process has read, from the shared state, that these deployments' breakers are open."""
    return all(
        all(breaker_states(server, route).get(i) == "1.0" for i in indexes)
        for server in client.servers
    )


def shared_retry_until_ms(redis_client: Any, route: str, index: int) -> int | None:
    """Deployment `index`'s retry-after (wall-clock ms) in the shared state, once it is there.

    A process reads that state when it first routes to the deployment.
    """
    for key in redis_client.scan_iter(match=f"sel:{{*}}:rt:{route}:{index}"):
        until = redis_client.hget(key, "retry")
        if until is not None:
            return int(until)
    return None


def test_a_failing_primary_is_skipped_and_the_next_deployment_answers(
    client: Client, gateway: Gateway, redis_client: Any
) -> None:
    client.put_route(
        "chat-failover",
        "priority",
        deployment(gateway, "primary-mock-error-500"),
        deployment(gateway, "backup-mock-chunks-3"),
    )
    response = client.chat("chat-failover")
    assert response.status_code == 200
    assert response.headers["x-selixes-model"] == "backup-mock-chunks-3"
    assert response.headers["x-selixes-fallbacks"] == "openai_compatible/primary-mock-error-500"
    assert client.received("error:500") == 1
    events = eventually(lambda: usage_events(redis_client), 15, "the usage event")
    (event,) = [e for e in events if e["model_requested"] == "chat-failover"]
    assert event["strategy"] == "priority"
    assert [(a["model"], a["outcome"]) for a in event["attempts"]] == [
        ("primary-mock-error-500", "http_500"),
        ("backup-mock-chunks-3", "ok"),
    ]


@pytest.mark.parametrize("status", [401, 403, 425, 529])
def test_a_refused_key_or_a_retryable_answer_sends_the_request_to_the_next_deployment(
    client: Client, gateway: Gateway, status: int
) -> None:
    alias = f"chat-after-{status}"
    client.put_route(
        alias,
        "priority",
        deployment(gateway, f"primary-mock-error-{status}-retry-after-0"),
        deployment(gateway, "backup-mock-chunks-3"),
    )
    response = client.chat(alias)
    assert response.status_code == 200
    assert response.headers["x-selixes-model"] == "backup-mock-chunks-3"


def test_a_request_the_provider_rejects_is_not_sent_to_another_deployment(
    client: Client, gateway: Gateway
) -> None:
    client.put_route(
        "chat-rejected",
        "priority",
        deployment(gateway, "primary-mock-error-422"),
        deployment(gateway, "backup-mock-chunks-3"),
    )
    response = client.chat("chat-rejected")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "provider_rejected"


def test_after_the_breaker_opens_the_failing_deployment_gets_no_traffic_until_its_cooldown(
    client: Client, gateway: Gateway
) -> None:
    client.put_route(
        "chat-breaker",
        "priority",
        deployment(gateway, "broken-mock-error-500"),
        deployment(gateway, "healthy-mock-chunks-3"),
    )
    # Four failures in the window (min_requests = 4, all failed) open it, on either process.
    for _ in range(8):
        assert client.chat("chat-breaker").status_code == 200
        if client.received("error:500") >= 4:
            break
    route = route_id(gateway, "chat-breaker")
    eventually(lambda: all_know_open(client, route, 0), 15, "every process seeing it open")
    opened_with = client.received("error:500")
    assert 4 <= opened_with <= 8
    for _ in range(6):
        response = client.chat("chat-breaker")
        assert response.status_code == 200
        assert "x-selixes-fallbacks" not in response.headers  # the broken one was not tried
    assert client.received("error:500") == opened_with

    # After the cooldown, one probe (of both processes together) goes to it, fails,
    # and opens the breaker again; traffic meanwhile is answered by the other.
    def probed() -> bool:
        assert client.chat("chat-breaker").status_code == 200
        return client.received("error:500") > opened_with

    eventually(probed, COOLDOWN_S + 30, "the half-open probe")
    eventually(lambda: all_know_open(client, route, 0), 15, "every process seeing it reopen")
    for _ in range(6):
        assert client.chat("chat-breaker").status_code == 200
    assert client.received("error:500") == opened_with + 1


def test_metrics_show_each_deployments_breaker_and_latency(
    client: Client, gateway: Gateway
) -> None:
    client.put_route(
        "chat-gauges",
        "priority",
        deployment(gateway, "down-mock-error-500"),
        deployment(gateway, "up-mock-chunks-3"),
    )
    route = route_id(gateway, "chat-gauges")
    for _ in range(6):
        client.chat("chat-gauges")
    # Every process, from the shared state.
    eventually(lambda: all_know_open(client, route, 0), 15, "every process seeing it open")
    for server in client.servers:
        text = httpx.get(f"{server.metrics_url}/metrics").text
        assert f'selixes_deployment_breaker_state{{deployment="{route}:1"}} 0.0' in text
        assert f'selixes_deployment_ttfb_ms{{deployment="{route}:1"}}' in text


def test_the_latency_strategy_moves_to_the_faster_deployment_and_back_after_recovery(
    client: Client, gateway: Gateway
) -> None:
    with relay_to(gateway.mock_url) as relay:
        relay.delay_s = 0.4
        flaky = {**deployment(gateway, "relayed-mock-chunks-3"), "api_base": f"{relay.url}/v1"}
        steady = deployment(gateway, "steady-mock-slow-100-chunks-4")
        client.put_route("chat-latency", "latency", flaky, steady)
        served = client.served_by("chat-latency", 60)
        # Within the first 20 requests both are measured; after that the faster one leads.
        assert served[20:].count("steady-mock-slow-100-chunks-4") >= 32  # of 40; 5% explores
        relay.delay_s = 0.0
        # Exploration measures the recovered deployment again; traffic follows.
        back_after = None
        for sent in range(0, 800, 40):
            served = client.served_by("chat-latency", 40)
            if served.count("relayed-mock-chunks-3") >= 32:
                back_after = sent
                break
        assert back_after is not None, "traffic never came back to the recovered deployment"


def test_the_cost_strategy_picks_the_cheapest_deployment_meeting_the_quality_floor(
    client: Client, gateway: Gateway
) -> None:
    def priced(model: str, quality: int | None, input_usd: str, output_usd: str) -> dict[str, Any]:
        price = {"input_per_mtok": input_usd, "output_per_mtok": output_usd}
        return deployment(gateway, model, quality=quality, price=price)

    client.put_route(
        "chat-cost",
        "cost",
        priced("premium-mock-chunks-3", 95, "10", "30"),
        priced("weak-mock-chunks-3", 40, "0.01", "0.02"),
        priced("unrated-mock-chunks-3", None, "0.001", "0.001"),
        priced("good-mock-chunks-3", 80, "0.5", "1.5"),
        min_quality=70,
    )
    assert set(client.served_by("chat-cost", 6)) == {"good-mock-chunks-3"}
    # The cheapest failing, the next cheapest meeting the floor answers.
    client.put_route(
        "chat-cost",
        "cost",
        priced("premium-mock-chunks-3", 95, "10", "30"),
        priced("good-mock-error-500", 80, "0.5", "1.5"),
        priced("weak-mock-chunks-3", 40, "0.01", "0.02"),
        min_quality=70,
    )
    response = client.chat("chat-cost")
    assert response.headers["x-selixes-model"] == "premium-mock-chunks-3"
    assert response.headers["x-selixes-fallbacks"] == "openai_compatible/good-mock-error-500"


def test_a_429s_retry_after_keeps_the_deployment_out_on_every_process_until_it_passes(
    client: Client, gateway: Gateway, redis_client: Any
) -> None:
    client.put_route(
        "chat-429",
        "priority",
        deployment(gateway, "limited-mock-error-429-retry-after-3"),
        deployment(gateway, "backup-mock-chunks-3"),
    )
    label = "error:429,retry-after:3"
    first = client.chat("chat-429")
    assert first.headers["x-selixes-fallbacks"] == (
        "openai_compatible/limited-mock-error-429-retry-after-3"
    )
    route = route_id(gateway, "chat-429")
    until_ms = eventually(
        lambda: shared_retry_until_ms(redis_client, route, 0), 15, "the shared retry-after"
    )
    for _ in range(4):  # both processes
        response = client.chat("chat-429")
        answered_ms = time.time() * 1000
        assert response.headers["x-selixes-model"] == "backup-mock-chunks-3"
        # Tried again only once the retry-after has passed (the shared state's
        # wall clock, not a duration this test times).
        assert "x-selixes-fallbacks" not in response.headers or answered_ms >= until_ms
    # Once it passes, a request tries the deployment again.
    eventually(
        lambda: "x-selixes-fallbacks" in client.chat("chat-429").headers, 30, "a retry after 3 s"
    )
    assert client.received(label) >= 2


def test_a_route_whose_only_deployment_asked_for_a_pause_is_answered_without_calling_it(
    client: Client, gateway: Gateway, redis_client: Any
) -> None:
    client.put_route(
        "chat-pause", "priority", deployment(gateway, "only-mock-error-429-retry-after-5")
    )
    first = client.chat("chat-pause")
    assert first.status_code == 502
    route = route_id(gateway, "chat-pause")
    eventually(lambda: shared_retry_until_ms(redis_client, route, 0), 15, "the shared retry-after")
    for _ in range(2):  # both processes
        response = client.chat("chat-pause")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "all_deployments_rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= 5
    assert client.received("error:429,retry-after:5") == 1


def test_a_stream_cut_after_bytes_were_sent_ends_with_an_error_event_and_no_retry(
    client: Client, gateway: Gateway
) -> None:
    client.put_route(
        "chat-cut",
        "priority",
        deployment(gateway, "cut-mock-cut-stream-chunks-20"),
        deployment(gateway, "backup-mock-chunks-3"),
    )
    response = client.chat("chat-cut", stream=True)
    assert response.status_code == 200
    events = [orjson.loads(data) for _, data in sse_events(response.text) if data.startswith("{")]
    assert any(e.get("choices") for e in events)  # some of the answer got through
    assert "error" in events[-1]
    assert client.received("chunks:3") == 0  # no silent retry elsewhere


def test_the_routes_attempt_limit_stops_the_failover(client: Client, gateway: Gateway) -> None:
    client.put_route(
        "chat-limit",
        "priority",
        deployment(gateway, "one-mock-error-502"),
        deployment(gateway, "two-mock-error-502"),
        deployment(gateway, "three-mock-chunks-3"),
        max_attempts=2,
    )
    response = client.chat("chat-limit")
    assert response.status_code == 502
    assert "limit of 2 attempts" in response.json()["error"]["message"]
    assert client.received("error:502") == 2
    assert client.received("chunks:3") == 0


def test_the_routes_deadline_stops_the_failover(client: Client, gateway: Gateway) -> None:
    client.put_route(
        "chat-deadline",
        "priority",
        deployment(gateway, "late-mock-slow-600-error-500"),
        deployment(gateway, "backup-mock-chunks-3"),
        deadline_s=0.3,
    )
    response = client.chat("chat-deadline")
    assert response.status_code == 502
    assert "deadline" in response.json()["error"]["message"]
    assert client.received("chunks:3") == 0


def test_a_route_with_every_deployment_open_still_tries_one(
    client: Client, gateway: Gateway
) -> None:
    client.put_route(
        "chat-all-open",
        "priority",
        deployment(gateway, "a-mock-error-500"),
        deployment(gateway, "b-mock-error-503"),
    )
    for _ in range(8):
        client.chat("chat-all-open")
    route = route_id(gateway, "chat-all-open")
    # Once every process knows the first is open, none tries both.
    eventually(lambda: all_know_open(client, route, 0), 15, "every process seeing it open")
    before = client.received("error:500") + client.received("error:503")
    response = client.chat("chat-all-open")
    assert response.status_code in (502, 503)
    assert client.received("error:500") + client.received("error:503") == before + 1
