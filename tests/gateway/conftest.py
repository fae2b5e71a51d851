"""Helpers for the gateway tests: route bodies and provider keys made through the API."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

# The mock provider process, for the gateway tests that send to it (health pings, the proxy's).
from tests.gateway.mock_provider.conftest import mock_url  # noqa: F401  # a fixture, used by name

# What a user pastes from their provider's console; must never come back out.
RAW_OPENAI_KEY = "sk-proj-TOPSECRET-0123456789abcdefWXYZ"


def a_deployment(**overrides: Any) -> dict[str, Any]:
    return {"provider": "openai", "model": "gpt-4o", **overrides}


def a_route(*deployments: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "strategy": "priority",
        "deployments": list(deployments or [a_deployment()]),
        **overrides,
    }


def put_route(api: APIClient, alias: str, body: dict[str, Any]) -> Any:
    return api.put(f"/api/v1/routes/{alias}/", body, format="json")


def add_key(api: APIClient, provider: str = "openai", api_key: str = RAW_OPENAI_KEY) -> str:
    """Add a provider key through the API; return its id."""
    response = api.post(
        "/api/v1/provider-keys/", {"provider": provider, "api_key": api_key}, format="json"
    )
    assert response.status_code == 201, response.content
    key_id: str = response.json()["id"]
    return key_id


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body
