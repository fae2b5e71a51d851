"""What the proxy reads after a change: routes and sealed provider keys in the org's snapshot."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import redis
from rest_framework.test import APIClient

from gateway.models import Route
from gateway.shared.crypto import MasterKeys, provider_key_context
from gateway.shared.snapshot import snapshot_key
from tests.conftest import Persona
from tests.gateway.conftest import RAW_OPENAI_KEY, a_deployment, a_route, add_key, put_route

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(client: redis.Redis, persona: Persona) -> dict[str, Any]:
    raw = client.hget(snapshot_key(str(persona.org.id)), "body")
    assert raw is not None
    snapshot: dict[str, Any] = orjson.loads(raw)
    return snapshot


def test_a_put_route_is_in_the_snapshot_after_commit(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key_id = add_key(alice_api)
    azure_key_id = add_key(alice_api, provider="azure")
    body = a_route(
        a_deployment(
            provider_key_id=key_id,
            quality=90,
            price={"input_per_mtok": "2.5", "output_per_mtok": "0.000150"},
        ),
        a_deployment(
            provider="azure",
            model="gpt-4o-prod",
            api_base="https://8.8.8.8/openai",
            api_version="2024-10-21",
            provider_key_id=azure_key_id,
            weight=5,
            timeout_s=45.5,
            connect_timeout_s=2,
            health_check=True,
        ),
        strategy="weighted",
        min_quality=70,
    )
    assert put_route(alice_api, "gpt-4o", body).status_code == 201
    route_id = Route.objects.get(org=alice.org, model="gpt-4o").id
    assert _stored(redis_client, alice)["routes"] == {
        "gpt-4o": {
            "strategy": "weighted",
            "min_quality": 70,
            "max_attempts": None,
            "deadline_s": None,
            "deployments": [
                {
                    "id": f"{route_id}:0",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "api_base": None,
                    "api_version": None,
                    "provider_key_id": key_id,
                    "weight": 1,
                    "quality": 90,
                    "price": {"input_per_mtok": "2.500000", "output_per_mtok": "0.000150"},
                    "timeout_s": 600.0,
                    "connect_timeout_s": 10.0,
                    "health_check": False,
                },
                {
                    "id": f"{route_id}:1",
                    "provider": "azure",
                    "model": "gpt-4o-prod",
                    "api_base": "https://8.8.8.8/openai",
                    "api_version": "2024-10-21",
                    "provider_key_id": azure_key_id,
                    "weight": 5,
                    "quality": None,
                    "price": None,
                    "timeout_s": 45.5,
                    "connect_timeout_s": 2.0,
                    "health_check": True,
                },
            ],
        }
    }


def test_the_snapshot_holds_the_key_sealed_and_the_proxy_can_open_it(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis, settings: Any
) -> None:
    key_id = add_key(alice_api)
    entry = _stored(redis_client, alice)["provider_keys"][key_id]
    assert entry["provider"] == "openai"
    opened = MasterKeys.parse(settings.SELIXES_MASTER_KEYS).open(
        entry["sealed"], provider_key_context(str(alice.org.id), key_id)
    )
    assert opened.decode() == RAW_OPENAI_KEY


def test_the_raw_key_is_never_in_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key_id = add_key(alice_api)
    put_route(alice_api, "gpt-4o", a_route(a_deployment(provider_key_id=key_id)))
    raw = redis_client.hget(snapshot_key(str(alice.org.id)), "body")
    assert raw is not None
    assert key_id.encode() in raw
    assert RAW_OPENAI_KEY.encode() not in raw


def test_a_revoked_key_and_a_deleted_route_leave_the_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    key_id = add_key(alice_api)
    put_route(alice_api, "gpt-4o", a_route())
    before = _stored(redis_client, alice)["version"]
    alice_api.delete(f"/api/v1/provider-keys/{key_id}/")
    alice_api.delete("/api/v1/routes/gpt-4o/")
    snapshot = _stored(redis_client, alice)
    assert snapshot["provider_keys"] == {}
    assert snapshot["routes"] == {}
    assert snapshot["version"] == before + 2


def test_a_refused_put_publishes_nothing(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    before = _stored(redis_client, alice)
    bad = a_route(
        a_deployment(), a_deployment(provider_key_id="00000000-0000-4000-8000-0000000000ab")
    )
    assert put_route(alice_api, "gpt-4o", bad).status_code == 400
    assert _stored(redis_client, alice) == before
    assert Route.objects.get(model="gpt-4o").deployments.count() == 1


def test_another_orgs_snapshot_does_not_change(
    alice_api: APIClient, charlie: Persona, redis_client: redis.Redis
) -> None:
    before = _stored(redis_client, charlie)
    put_route(alice_api, "gpt-4o", a_route())
    add_key(alice_api)
    assert _stored(redis_client, charlie) == before
