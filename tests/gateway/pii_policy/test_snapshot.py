"""What the proxy reads after a change: the policy, the sealed pseudonym key, the overrides."""

from __future__ import annotations

import base64
import os
from io import StringIO
from typing import Any

import pytest
import redis
from django.core.management import call_command
from rest_framework.test import APIClient

from gateway.pii_policy.models import PiiSecret
from gateway.sealing import master_keys
from gateway.shared.crypto import CryptoError, MasterKeys, pii_secret_context
from tenants import actions
from tests.conftest import Persona
from tests.gateway.pii_policy.conftest import a_policy, project_url, put, stored_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def _opened(snapshot: dict[str, Any], keys: MasterKeys | None = None) -> bytes:
    sealed = snapshot["pii_secret"]
    assert isinstance(sealed, str)
    return (keys or master_keys()).open(sealed, pii_secret_context(snapshot["org_id"]))


def test_an_org_without_a_policy_publishes_none_and_no_key(
    alice: Persona, redis_client: redis.Redis
) -> None:
    snapshot = stored_snapshot(redis_client, alice.org)
    assert "pii" not in snapshot
    assert "pii_secret" not in snapshot
    assert "pii" not in snapshot["projects"][str(alice.project.id)]


def test_the_policy_and_a_sealed_key_are_in_the_snapshot_after_commit(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    before = stored_snapshot(redis_client, alice.org)["version"]
    assert put(alice_api, a_policy()).status_code == 200
    snapshot = stored_snapshot(redis_client, alice.org)
    assert snapshot["version"] == before + 1
    assert snapshot["pii"] == {
        "enabled": True,
        "entities": {
            "CREDIT_CARD": "block",
            "EMAIL": "mask",
            "IP_ADDRESS": "allow",
            "PERSON": "pseudonymize",
        },
        "custom_patterns": [{"name": "EMPLOYEE_ID", "regex": "EMP-[0-9]{6}", "action": "mask"}],
        "restore_in_response": True,
    }
    secret = _opened(snapshot)
    assert len(secret) == 32
    # Sealed, never in the clear.
    assert base64.urlsafe_b64encode(secret).decode().rstrip("=") not in snapshot["pii_secret"]
    assert secret.hex() not in str(snapshot)


def test_the_key_stays_the_same_across_policy_changes_and_publishes(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    put(alice_api, a_policy())
    first = stored_snapshot(redis_client, alice.org)
    put(alice_api, a_policy(enabled=False, entities={"PHONE": "pseudonymize"}))
    actions.create_project(alice.org, "Second", alice.actor)
    put(alice_api, a_policy(), project_url(alice.project.id))
    later = stored_snapshot(redis_client, alice.org)
    assert later["version"] == first["version"] + 3
    assert later["pii"]["entities"] == {"PHONE": "pseudonymize"}
    assert later["pii_secret"] == first["pii_secret"]
    assert _opened(later) == _opened(first)
    assert PiiSecret.objects.count() == 1


def test_each_org_has_its_own_key_bound_to_it(
    alice: Persona,
    charlie: Persona,
    alice_api: APIClient,
    charlie_api: APIClient,
    redis_client: redis.Redis,
) -> None:
    put(alice_api, a_policy())
    put(charlie_api, a_policy())
    alices = stored_snapshot(redis_client, alice.org)
    charlies = stored_snapshot(redis_client, charlie.org)
    assert _opened(alices) != _opened(charlies)
    # Alice's ciphertext copied into Globex's snapshot does not open as Globex's key.
    with pytest.raises(CryptoError):
        master_keys().open(alices["pii_secret"], pii_secret_context(str(charlie.org.id)))


def test_a_projects_own_policy_is_on_its_entry_only(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    other = actions.create_project(alice.org, "Other", alice.actor)
    put(alice_api, a_policy())
    own = a_policy(entities={"EMAIL": "block"}, custom_patterns=[], restore_in_response=False)
    put(alice_api, own, project_url(alice.project.id))
    projects = stored_snapshot(redis_client, alice.org)["projects"]
    assert projects[str(alice.project.id)] == {"rpm_limit": None, "tpm_limit": None, "pii": own}
    assert projects[str(other.id)] == {"rpm_limit": None, "tpm_limit": None}

    alice_api.delete(project_url(alice.project.id))
    snapshot = stored_snapshot(redis_client, alice.org)
    assert "pii" not in snapshot["projects"][str(alice.project.id)]
    assert snapshot["pii"]["entities"] == a_policy()["entities"]


def test_a_project_policy_alone_gives_the_org_its_key(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    put(alice_api, a_policy(), project_url(alice.project.id))
    snapshot = stored_snapshot(redis_client, alice.org)
    assert "pii" not in snapshot  # the org has no policy: disabled for other projects
    assert len(_opened(snapshot)) == 32


def test_a_refused_policy_publishes_nothing(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    put(alice_api, a_policy())
    before = stored_snapshot(redis_client, alice.org)
    bad = a_policy(custom_patterns=[{"name": "X_ID", "regex": r"(?=x)", "action": "mask"}])
    assert put(alice_api, bad).status_code == 400
    assert stored_snapshot(redis_client, alice.org) == before


def _random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_rewrap_secrets_reseals_the_key_under_the_new_master_key(
    alice: Persona,
    charlie: Persona,
    alice_api: APIClient,
    charlie_api: APIClient,
    settings: Any,
    redis_client: redis.Redis,
) -> None:
    old, new = f"old:{_random_key()}", f"new:{_random_key()}"
    settings.SELIXES_MASTER_KEYS = old
    put(alice_api, a_policy())
    put(charlie_api, a_policy())
    clear = _opened(stored_snapshot(redis_client, alice.org))

    settings.SELIXES_MASTER_KEYS = f"{new},{old}"
    out = StringIO()
    call_command("rewrap_secrets", stdout=out)
    assert "rewrapped 2 PII pseudonymization key(s); republished 2 org(s); 0 failed" in (
        out.getvalue()
    )
    again = StringIO()
    call_command("rewrap_secrets", stdout=again)
    assert "rewrapped 0 PII pseudonymization key(s)" in again.getvalue()

    settings.SELIXES_MASTER_KEYS = new  # the old key can go
    snapshot = stored_snapshot(redis_client, alice.org)
    assert MasterKeys.parse(new).key_id_of(snapshot["pii_secret"]) == "new"
    assert _opened(snapshot) == clear  # the same key: pseudonyms do not change
    assert snapshot["pii_secret"] == PiiSecret.objects.get(org=alice.org).sealed
