"""What each request's usage event says about who answered, as routing services promise.

Per attempt: the endpoint actually called ("host:port", never a path or key)
and the breaker state the router relied on; per request: the provider whose
answer failed it (absent when the gateway itself refused) and the snapshot
version that routed it. Real proxy processes against the mock provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from gateway.proxy.stages.upstream.failover import endpoint_of
from gateway.shared.snapshot import snapshot_key
from tests.conftest import Persona
from tests.factories.usage import usage_event
from tests.gateway.proxy.conftest import Gateway, ProxyServer, serving_proxy

pytestmark = pytest.mark.django_db(transaction=True)


def _chat(proxy_url: str, key: str, alias: str, stream: bool = False) -> httpx.Response:
    return httpx.post(
        f"{proxy_url}/v1/chat/completions",
        json={"model": alias, "stream": stream, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )


def _event_of(response: httpx.Response) -> dict[str, Any]:
    return usage_event(response.headers["x-request-id"])


def _mock_endpoint(gateway: Gateway) -> str:
    return urlsplit(gateway.mock_url).netloc


def _snapshot_version(redis_client: redis.Redis, persona: Persona) -> int:
    return int(redis_client.hget(snapshot_key(str(persona.org.id)), "version") or 0)


def test_a_failover_records_each_attempts_endpoint_and_health_and_the_routing_version(
    gateway: Gateway, alice: Persona, redis_client: redis.Redis
) -> None:
    gateway.route(
        "chat-failover",
        gateway.openai_compatible("primary-mock-error-500"),
        gateway.openai_compatible("backup-mock-chunks-3"),
    )
    version = _snapshot_version(redis_client, alice)

    response = _chat(gateway.proxy_url, gateway.key, "chat-failover")

    assert response.status_code == 200, response.text
    event = _event_of(response)
    endpoint = _mock_endpoint(gateway)
    assert [(a["model"], a["outcome"], a["endpoint"], a["health"]) for a in event["attempts"]] == [
        ("primary-mock-error-500", "http_500", endpoint, "closed"),
        ("backup-mock-chunks-3", "ok", endpoint, "closed"),
    ]
    assert event["routing_version"] == version
    assert "error_provider" not in event  # answered in the end


def test_a_request_every_deployment_failed_names_the_provider_that_failed_it(
    gateway: Gateway,
) -> None:
    gateway.route(
        "chat-all-fail",
        gateway.openai_compatible("one-mock-error-502"),
        gateway.openai_compatible("two-mock-error-503"),
    )

    response = _chat(gateway.proxy_url, gateway.key, "chat-all-fail")

    assert response.status_code == 502
    event = _event_of(response)
    assert event["error_provider"] == "openai_compatible"
    assert [a["outcome"] for a in event["attempts"]] == ["http_502", "http_503"]


def test_a_request_the_provider_rejects_names_that_provider(gateway: Gateway) -> None:
    gateway.route("chat-rejected", gateway.openai_compatible("primary-mock-error-422"))

    response = _chat(gateway.proxy_url, gateway.key, "chat-rejected")

    assert response.status_code == 422
    assert _event_of(response)["error_provider"] == "openai_compatible"


def test_a_stream_the_provider_cuts_after_its_first_bytes_names_that_provider(
    gateway: Gateway,
) -> None:
    gateway.route("chat-cut", gateway.openai_compatible("cut-mock-cut-stream-chunks-20"))

    response = _chat(gateway.proxy_url, gateway.key, "chat-cut", stream=True)

    assert response.status_code == 200
    event = _event_of(response)
    assert event["error_code"] == "stream_broken"
    assert event["error_provider"] == "openai_compatible"


def test_a_request_the_gateway_refuses_names_no_provider(
    gateway: Gateway, alice: Persona, redis_client: redis.Redis
) -> None:
    response = _chat(gateway.proxy_url, gateway.key, "no-such-alias")

    assert response.status_code == 404
    event = _event_of(response)
    assert "error_provider" not in event
    assert event["attempts"] == []
    assert event["routing_version"] == _snapshot_version(redis_client, alice)


def test_a_request_without_a_tenant_has_no_routing_version(gateway: Gateway) -> None:
    response = _chat(gateway.proxy_url, "sk-sel-not-a-key", "chat")

    assert response.status_code == 401
    event = _event_of(response)
    assert "routing_version" not in event
    assert "error_provider" not in event


@pytest.fixture(scope="module")
def quick_breaker_proxy() -> Iterator[ProxyServer]:
    """A proxy whose breakers open after 4 failures and stay open for a minute."""
    with serving_proxy(
        name="breaker",
        SELIXES_BREAKER_MIN_REQUESTS="4",
        SELIXES_BREAKER_COOLDOWN_S="60",
        SELIXES_BREAKER_PROBES="1",
    ) as server:
        yield server


def test_an_attempt_on_an_open_breaker_is_recorded_as_open(
    gateway: Gateway, quick_breaker_proxy: ProxyServer
) -> None:
    # One deployment: an open breaker never refuses it, it is tried alone as a probe.
    gateway.route("chat-open", gateway.openai_compatible("down-mock-error-500"))
    healths = []
    for _ in range(6):
        response = _chat(quick_breaker_proxy.url, gateway.key, "chat-open")
        assert response.status_code == 502
        (attempt,) = _event_of(response)["attempts"]
        healths.append(attempt["health"])
    # Four failures open it; every later request relied on an open breaker.
    assert healths == ["closed"] * 4 + ["open"] * 2


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://api.openai.com/v1/chat/completions", "api.openai.com"),
        ("http://127.0.0.1:9090/v1/chat/completions?x=1", "127.0.0.1:9090"),
        (
            "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIzaSECRET",
            "generativelanguage.googleapis.com",
        ),
        ("https://user:secret@llm.internal:8443/v1#frag", "llm.internal:8443"),
        ("http://[::1]:11434/api", "[::1]:11434"),
    ],
)
def test_an_endpoint_is_host_and_port_only(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint
