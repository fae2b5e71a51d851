from __future__ import annotations

from rest_framework.test import APIClient

from tenants.models import ApiKey
from tests.conftest import Persona


def test_alice_creates_a_key_that_is_shown_once_and_stored_hashed(
    alice: Persona, alice_api: APIClient
) -> None:
    response = alice_api.post(
        "/api/v1/keys/", {"project_id": str(alice.project.id), "name": "ci"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"].startswith("sk-sel-")
    assert body["key"].startswith(body["prefix"])
    stored = ApiKey.objects.get(id=body["id"])
    assert body["key"] not in (stored.hashed, stored.prefix)
    listed = alice_api.get("/api/v1/keys/").json()
    assert [k["prefix"] for k in listed] == [body["prefix"]]
    assert "key" not in listed[0]
