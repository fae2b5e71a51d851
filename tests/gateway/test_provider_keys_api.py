"""BYOK through the API: a key goes in, is stored sealed, and never comes out again."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gateway.models import ProviderKey
from gateway.sealing import open_provider_key
from tenants.models import AuditEvent
from tests.conftest import Persona
from tests.gateway.conftest import (
    RAW_OPENAI_KEY,
    a_deployment,
    a_route,
    add_key,
    error_of,
    put_route,
)


def test_a_key_is_stored_sealed_and_answered_without_the_secret(
    alice: Persona, alice_api: APIClient
) -> None:
    response = alice_api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai", "api_key": f"  {RAW_OPENAI_KEY}\n", "name": "prod"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["provider"], body["name"], body["last4"]) == ("openai", "prod", "WXYZ")
    assert {"id", "created_at"} <= set(body)
    assert RAW_OPENAI_KEY not in response.content.decode()
    key = ProviderKey.objects.get(id=body["id"])
    assert RAW_OPENAI_KEY not in key.sealed
    assert open_provider_key(key) == RAW_OPENAI_KEY
    assert key.org_id == alice.org.id


def test_keys_are_listed_without_secrets(alice_api: APIClient) -> None:
    add_key(alice_api)
    add_key(alice_api, provider="anthropic", api_key="sk-ant-api03-SECRETSECRET-9876")
    listed = alice_api.get("/api/v1/provider-keys/")
    assert [k["provider"] for k in listed.json()] == ["anthropic", "openai"]
    text = listed.content.decode()
    assert RAW_OPENAI_KEY not in text
    assert "SECRETSECRET" not in text
    assert "sealed" not in text


def test_a_revoked_key_loses_its_ciphertext(alice: Persona, alice_api: APIClient) -> None:
    key_id = add_key(alice_api)
    assert alice_api.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 204
    fetched = alice_api.get(f"/api/v1/provider-keys/{key_id}/").json()
    assert fetched["revoked"] is True
    assert ProviderKey.objects.get(id=key_id).sealed == ""
    assert AuditEvent.objects.filter(org=alice.org, action="provider_key.revoked").exists()
    assert alice_api.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 204


def test_a_key_in_use_by_a_route_cannot_be_revoked(alice_api: APIClient) -> None:
    key_id = add_key(alice_api)
    put_route(alice_api, "gpt-4o", a_route(a_deployment(provider_key_id=key_id)))
    response = alice_api.delete(f"/api/v1/provider-keys/{key_id}/")
    assert response.status_code == 409
    assert "gpt-4o" in error_of(response)["message"]
    assert ProviderKey.objects.get(id=key_id).is_active
    put_route(alice_api, "gpt-4o", a_route(a_deployment()))
    assert alice_api.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 204


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"provider": "openai", "api_key": RAW_OPENAI_KEY, "org": "x"}, "org"),
        ({"provider": "openrouter", "api_key": RAW_OPENAI_KEY}, "provider"),
        ({"provider": "openai"}, "api_key"),
        ({"provider": "openai", "api_key": "short"}, "api_key"),
        ({"provider": "openai", "api_key": "sk with spaces inside"}, "api_key"),
        ({"provider": "openai", "api_key": "sk-ключ-0123456789"}, "api_key"),
        ({"provider": "openai", "api_key": "x" * 4097}, "api_key"),
        ({"provider": "openai", "api_key": RAW_OPENAI_KEY, "name": "a\x00b"}, "name"),
        ({"provider": "openai", "api_key": RAW_OPENAI_KEY, "name": "n" * 101}, "name"),
    ],
)
def test_bad_keys_are_refused_without_echoing_them(
    alice_api: APIClient, body: dict[str, Any], param: str
) -> None:
    response = alice_api.post("/api/v1/provider-keys/", body, format="json")
    assert response.status_code == 400
    assert error_of(response)["param"] == param
    assert RAW_OPENAI_KEY not in response.content.decode()
    assert not ProviderKey.objects.exists()


def test_charlie_gets_404_on_alices_key(alice_api: APIClient, charlie_api: APIClient) -> None:
    key_id = add_key(alice_api)
    assert charlie_api.get(f"/api/v1/provider-keys/{key_id}/").status_code == 404
    assert charlie_api.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 404
    assert charlie_api.get("/api/v1/provider-keys/").json() == []
    assert ProviderKey.objects.get(id=key_id).is_active


def test_a_member_may_not_see_provider_keys(alice_api: APIClient, bob: Persona) -> None:
    key_id = add_key(alice_api)
    browser = APIClient()
    browser.force_login(bob.user)
    assert browser.get("/api/v1/provider-keys/").status_code == 403
    assert browser.get(f"/api/v1/provider-keys/{key_id}/").status_code == 403
    assert browser.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 403
    response = browser.post(
        "/api/v1/provider-keys/", {"provider": "openai", "api_key": RAW_OPENAI_KEY}, format="json"
    )
    assert response.status_code == 403
    assert ProviderKey.objects.count() == 1


def test_no_audit_event_holds_the_key(alice: Persona, alice_api: APIClient) -> None:
    key_id = add_key(alice_api)
    put_route(alice_api, "gpt-4o", a_route(a_deployment(provider_key_id=key_id)))
    put_route(alice_api, "gpt-4o", a_route())
    alice_api.delete(f"/api/v1/provider-keys/{key_id}/")
    events = AuditEvent.objects.filter(org=alice.org)
    assert {"provider_key.created", "provider_key.revoked"} <= {e.action for e in events}
    for event in events.values():
        assert not any(RAW_OPENAI_KEY in str(value) for value in event.values())
