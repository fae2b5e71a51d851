"""A real proxy process (uvicorn) on a free loopback port, sharing the test Redis.

`gateway`: alice's org with a key and a route "chat" to the mock provider,
as an application and its admin would see it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from infra.run import uvicorn_command
from tests.conftest import Persona, api_client_for, create_key
from tests.gateway.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture
from tests.servers import free_port, serving


def proxy_env(**extra: str) -> dict[str, str]:
    """A proxy process's environment: the test Redis and secrets, plus `extra`."""
    return {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "SELIXES_HASH_KEY": settings.SELIXES_HASH_KEY,
        "SELIXES_MASTER_KEYS": settings.SELIXES_MASTER_KEYS,
        # The mock provider listens on loopback, as vLLM or Ollama would.
        "SELIXES_PRIVATE_UPSTREAMS": "allow",
        # Its own metrics port: proxies of parallel test runs never meet on :9091.
        "SELIXES_METRICS_PORT": str(free_port()),
        **extra,
    }


@dataclass(frozen=True)
class ProxyServer:
    url: str
    metrics_url: str


@contextmanager
def serving_proxy(workers: str = "1", name: str = "proxy", **env: str) -> Iterator[ProxyServer]:
    """Run a proxy process (`workers` uvicorn workers) with `env`; yield its two base URLs."""
    port, metrics_port = free_port(), free_port()
    command = uvicorn_command("gateway.proxy.asgi:app", port, workers)
    full_env = proxy_env(SELIXES_METRICS_PORT=str(metrics_port), **env)
    with serving(command, port, full_env, name) as url:
        yield ProxyServer(url, f"http://127.0.0.1:{metrics_port}")


@pytest.fixture(scope="session")
def proxy_server() -> Iterator[ProxyServer]:
    with serving_proxy() as server:
        yield server


@pytest.fixture
def proxy_url(proxy_server: ProxyServer) -> str:
    return proxy_server.url


PROVIDER_KEY = "pk-mock-provider-key-123"
# The mock's models are in no price list: routes to them carry their own price.
MOCK_PRICE = {"input_per_mtok": "1.000000", "output_per_mtok": "2.000000"}


@dataclass
class Gateway:
    proxy_url: str
    mock_url: str
    key: str
    api: APIClient
    provider_key_id: str
    # The proxy's metrics port (CONTRACT.md section 5), when the test reads it.
    metrics_url: str = ""

    def metrics(self) -> str:
        """One scrape of the proxy's metrics port, as Prometheus would take it."""
        assert self.metrics_url, "this gateway's proxy was started without a known metrics port"
        return httpx.get(f"{self.metrics_url}/metrics", timeout=10).text

    def route(self, alias: str, *deployments: dict[str, Any]) -> None:
        response = self.api.put(
            f"/api/v1/routes/{alias}/",
            {"strategy": "priority", "deployments": list(deployments)},
            format="json",
        )
        assert response.status_code in (200, 201), response.content

    def openai_compatible(self, model: str = "gpt-mock") -> dict[str, Any]:
        return {
            "provider": "openai_compatible",
            "model": model,
            "api_base": f"{self.mock_url}/v1",
            "provider_key_id": self.provider_key_id,
            "price": MOCK_PRICE,
        }

    def anthropic_deployment(self, model: str = "claude-mock") -> dict[str, Any]:
        created = self.api.post(
            "/api/v1/provider-keys/",
            {"provider": "anthropic", "api_key": "sk-ant-mock-key-456"},
            format="json",
        )
        assert created.status_code == 201, created.content
        return {
            "provider": "anthropic",
            "model": model,
            "api_base": self.mock_url,
            "provider_key_id": created.json()["id"],
            "price": MOCK_PRICE,
        }

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.proxy_url}/v1", api_key=self.key, max_retries=0)

    def anthropic_client(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.proxy_url, api_key=self.key, max_retries=0)

    def recorded(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.mock_url}/_mock/requests").json()
        return body


@pytest.fixture
def gateway(
    proxy_server: ProxyServer,
    mock_url: str,  # noqa: F811  # the fixture imported above
    alice: Persona,
    settings: Any,
) -> Iterator[Gateway]:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock listens on loopback
    httpx.post(f"{mock_url}/_mock/reset")
    api = api_client_for(alice)
    created = api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai_compatible", "api_key": PROVIDER_KEY},
        format="json",
    )
    assert created.status_code == 201, created.content
    gw = Gateway(
        proxy_server.url,
        mock_url,
        create_key(api, alice)["key"],
        api,
        created.json()["id"],
        proxy_server.metrics_url,
    )
    gw.route("chat", gw.openai_compatible())
    yield gw
