"""A real proxy process (uvicorn) on a free loopback port, sharing the test Redis.

`gateway`: alice's org with a key and a route "chat" to the mock provider,
as an application and its admin would see it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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
from tests.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture
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
        **extra,
    }


@pytest.fixture(scope="session")
def proxy_url() -> Iterator[str]:
    port = free_port()
    command = uvicorn_command("gateway.proxy.asgi:app", port)
    with serving(command, port, proxy_env(), "proxy") as url:
        yield url


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
    proxy_url: str,
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
    gw = Gateway(proxy_url, mock_url, create_key(api, alice)["key"], api, created.json()["id"])
    gw.route("chat", gw.openai_compatible())
    yield gw
