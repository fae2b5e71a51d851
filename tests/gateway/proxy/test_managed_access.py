"""The platform's provider keys go only to their providers' own endpoints, and at list price.

A hostile tenant would save a route to its own server with no key of its own,
hoping the proxy (or the health pinger) sends SELIXES_PLATFORM_KEY_<PROVIDER>
there. The routes API refuses that; routes saved before the rule existed are
written here straight to the database, as they would still be, and the proxy
and the pinger must refuse them at send time.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateway.health_pings import ping_opted_in_deployments
from gateway.models import Deployment, Route
from gateway.proxy.keyring import Keyring
from gateway.shared.crypto import MasterKeys
from gateway.shared.snapshot import DeploymentEntry, Snapshot
from tenants.snapshots import build_snapshot, bump_and_publish
from tests.conftest import Persona, api_client_for, create_key
from tests.gateway.proxy.conftest import serving_proxy

PLATFORM_SECRET = "sk-platform-SECRET-never-to-a-tenant"
# Real commits: the proxy reads what web published after commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def managed_proxy_url() -> Iterator[str]:
    """A proxy that holds platform keys, as a managed deployment of Selixes does."""
    with serving_proxy(
        name="managed proxy",
        SELIXES_PLATFORM_KEY_OPENAI=PLATFORM_SECRET,
        SELIXES_PLATFORM_KEY_ANTHROPIC=PLATFORM_SECRET,
        SELIXES_PLATFORM_KEY_OPENAI_COMPATIBLE=PLATFORM_SECRET,
    ) as server:
        yield server.url


def _legacy_route(persona: Persona, alias: str, **deployment: Any) -> None:
    """Save a route as the API accepted it before the rule: no checks, straight to the rows."""
    route = Route.objects.create(org=persona.org, model=alias, strategy="priority")
    Deployment.objects.create(route=route, position=0, **deployment)
    bump_and_publish(persona.org)


def _received(mock_url: str) -> list[dict[str, Any]]:
    recent: list[dict[str, Any]] = httpx.get(f"{mock_url}/_mock/requests").json()["recent"]
    return recent


@pytest.fixture
def mock_reset(mock_url: str, settings: Any) -> str:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock listens on loopback
    httpx.post(f"{mock_url}/_mock/reset").raise_for_status()
    return mock_url


@pytest.mark.parametrize(
    ("provider", "base"),
    [("openai", "/v1"), ("anthropic", ""), ("gemini", "")],
)
def test_the_api_refuses_a_tenant_address_for_the_platform_key(
    alice: Persona, provider: str, base: str
) -> None:
    api = api_client_for(alice)
    body = {
        "strategy": "priority",
        "deployments": [
            {"provider": provider, "model": "m", "api_base": f"https://their-server.example{base}"}
        ],
    }
    response = api.put("/api/v1/routes/leak/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == "deployments.0.provider_key_id"
    assert "only sent to" in error["message"]
    assert not Route.objects.filter(org=alice.org).exists()


def test_the_api_refuses_a_tenant_price_for_the_platform_key(alice: Persona) -> None:
    api = api_client_for(alice)
    free = {"input_per_mtok": "0", "output_per_mtok": "0"}
    body = {
        "strategy": "priority",
        "deployments": [{"provider": "openai", "model": "gpt-4o", "price": free}],
    }
    response = api.put("/api/v1/routes/free/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["param"] == "deployments.0.price"
    assert not Route.objects.filter(org=alice.org).exists()


def test_own_keys_and_keyless_servers_keep_their_address_and_price(
    alice: Persona, settings: Any
) -> None:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"
    api = api_client_for(alice)
    key = api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai", "api_key": "sk-their-own-0123456789"},
        format="json",
    ).json()["id"]
    price = {"input_per_mtok": "0.10", "output_per_mtok": "0.20"}
    body = {
        "strategy": "priority",
        "deployments": [
            {
                "provider": "openai",
                "model": "gpt-4o",
                "api_base": "https://8.8.8.8/v1",
                "provider_key_id": key,
                "price": price,
            },
            {"provider": "vllm", "model": "llama", "api_base": "http://127.0.0.1:8000/v1"},
            {"provider": "ollama", "model": "qwen", "api_base": "http://127.0.0.1:11434"},
        ],
    }
    response = api.put("/api/v1/routes/mine/", body, format="json")
    assert response.status_code == 201, response.content


def test_the_proxy_never_sends_the_platform_key_to_a_route_saved_before_the_rule(
    alice: Persona, managed_proxy_url: str, mock_reset: str
) -> None:
    _legacy_route(alice, "leak", provider="openai", model="gpt-4o", api_base=f"{mock_reset}/v1")
    key = create_key(api_client_for(alice), alice)["key"]
    response = httpx.post(
        f"{managed_proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {key}"},
        json={"model": "leak", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    assert "no_provider_key" in response.text
    assert PLATFORM_SECRET not in response.text
    assert _received(mock_reset) == []


def test_a_keyless_server_is_sent_no_key_even_when_the_platform_has_one(
    alice: Persona, managed_proxy_url: str, mock_reset: str
) -> None:
    _legacy_route(
        alice,
        "self-hosted",
        provider="openai_compatible",
        model="gpt-mock",
        api_base=f"{mock_reset}/v1",
        price_input_per_mtok=Decimal("1"),
        price_output_per_mtok=Decimal("1"),
    )
    key = create_key(api_client_for(alice), alice)["key"]
    httpx.post(
        f"{managed_proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {key}"},
        json={"model": "self-hosted", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    # The mock refuses a request without a key, but it records what arrived.
    [arrived] = _received(mock_reset)
    assert not arrived["api_key"]
    assert PLATFORM_SECRET not in str(arrived["headers"])


def test_the_pinger_never_sends_the_platform_key_to_a_route_saved_before_the_rule(
    alice: Persona, mock_reset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELIXES_PLATFORM_KEY_OPENAI", PLATFORM_SECRET)
    _legacy_route(
        alice,
        "pinged",
        provider="openai",
        model="gpt-4o",
        api_base=f"{mock_reset}/v1",
        health_check=True,
    )
    [outcome] = ping_opted_in_deployments()
    assert (outcome.outcome, outcome.rejected) == ("no_provider_key", True)
    assert _received(mock_reset) == []


def _entry(tenant: Snapshot) -> DeploymentEntry:
    [route] = tenant["routes"].values()
    [deployment] = route["deployments"]
    return deployment


def test_the_platform_key_goes_to_the_providers_own_endpoint(alice: Persona) -> None:
    _legacy_route(alice, "managed", provider="openai", model="gpt-4o")
    keyring = Keyring(None, {"openai": PLATFORM_SECRET})
    tenant = build_snapshot(alice.org)
    assert keyring.key_for(tenant, _entry(tenant)) == PLATFORM_SECRET


def test_an_own_key_is_used_even_when_the_platform_has_one(alice: Persona, settings: Any) -> None:
    created = (
        api_client_for(alice)
        .post(
            "/api/v1/provider-keys/",
            {"provider": "openai", "api_key": "sk-their-own-0123456789"},
            format="json",
        )
        .json()
    )
    route = Route.objects.create(org=alice.org, model="own", strategy="priority")
    Deployment.objects.create(
        route=route,
        position=0,
        provider="openai",
        model="gpt-4o",
        api_base="https://their-server.example/v1",
        provider_key_id=created["id"],
    )
    keyring = Keyring(MasterKeys.parse(settings.SELIXES_MASTER_KEYS), {"openai": PLATFORM_SECRET})
    tenant = build_snapshot(alice.org)
    assert keyring.key_for(tenant, _entry(tenant)) == "sk-their-own-0123456789"
