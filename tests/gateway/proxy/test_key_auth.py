"""The key lifecycle as an application sees it, through a real proxy process."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Persona, api_client_for, create_key
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _models(proxy_url: str, key: str, header: str = "authorization") -> httpx.Response:
    value = f"Bearer {key}" if header == "authorization" else key
    return httpx.get(f"{proxy_url}/v1/models", headers={header: value}, timeout=5)


def test_a_new_key_works_through_the_proxy_with_either_header(
    proxy_url: str, alice: Persona
) -> None:
    key = create_key(api_client_for(alice), alice)["key"]
    bearer = _models(proxy_url, key)
    assert bearer.status_code == 200, bearer.text
    assert bearer.json() == {"object": "list", "data": []}
    assert bearer.headers["x-request-id"]
    assert _models(proxy_url, key, header="x-api-key").status_code == 200


def test_the_proxy_refuses_a_revoked_key_it_had_cached(proxy_url: str, alice: Persona) -> None:
    api = api_client_for(alice)
    created = create_key(api, alice)
    assert _models(proxy_url, created["key"]).status_code == 200  # now cached in the proxy

    assert api.delete(f"/api/v1/keys/{created['id']}/").status_code == 204
    # How soon is the snapshot's business (pub/sub, and its max age as a bound);
    # a test that timed it would fail on a loaded machine, not on a slow proxy.
    eventually(lambda: _models(proxy_url, created["key"]).status_code != 200, 15, "the key refused")
    refused = _models(proxy_url, created["key"])
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer sk-sel-notarealkeyatallnotarealkey"},
        {"authorization": "Bearer mt-a-management-token-is-not-an-api-key"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"x-api-key": "sk-sel-" + "A" * 500},
    ],
    ids=["missing", "unknown", "management-token", "basic-auth", "oversized"],
)
def test_it_refuses_requests_without_a_valid_key(proxy_url: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{proxy_url}/v1/models", headers=headers, timeout=5)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert set(error) == {"message", "type", "code", "param"}


def test_a_key_of_one_org_sees_nothing_of_another(
    proxy_url: str, alice: Persona, charlie: Persona
) -> None:
    alice_key = create_key(api_client_for(alice), alice)["key"]
    charlie_key = create_key(api_client_for(charlie), charlie)["key"]
    # Swap the secret halves: a key must match its own prefix's hash exactly.
    forged = charlie_key[:15] + alice_key[15:]
    assert _models(proxy_url, forged).status_code == 401


def test_keys_survive_a_redis_flush_once_snapshots_are_republished(
    proxy_url: str, alice: Persona, redis_client: object
) -> None:
    from tenants.snapshots import republish_stale_snapshots

    key = create_key(api_client_for(alice), alice)["key"]
    import redis

    assert isinstance(redis_client, redis.Redis)
    redis_client.flushdb()
    # Past the proxy's snapshot max age it looks again, finds nothing, and fails closed.
    eventually(
        lambda: _models(proxy_url, key).status_code == 401, 15, "the key refused after the flush"
    )
    assert republish_stale_snapshots() >= 1
    assert _models(proxy_url, key).status_code == 200


def test_healthz_answers_without_a_key(proxy_url: str) -> None:
    response = httpx.get(f"{proxy_url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_endpoints_answer_404_in_the_error_shape(proxy_url: str, alice: Persona) -> None:
    key = create_key(api_client_for(alice), alice)["key"]
    response = httpx.post(
        f"{proxy_url}/v1/nothing-here", headers={"authorization": f"Bearer {key}"}, timeout=5
    )
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
