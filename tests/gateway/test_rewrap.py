"""Rolling the master key: rewrap_secrets re-seals provider keys so the old key can go."""

from __future__ import annotations

import base64
import os
from io import StringIO
from typing import Any

import orjson
import pytest
import redis
from django.core.management import CommandError, call_command

from gateway import actions
from gateway.models import ProviderKey
from gateway.sealing import open_provider_key
from gateway.shared.crypto import CryptoError, MasterKeys
from gateway.shared.snapshot import snapshot_key
from tests.conftest import Persona
from tests.gateway.conftest import RAW_OPENAI_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def _random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


OLD, NEW = f"old:{_random_key()}", f"new:{_random_key()}"


def _rewrap() -> str:
    out = StringIO()
    call_command("rewrap_secrets", "--batch-size", "2", stdout=out)
    return out.getvalue()


def test_rotation_reseals_every_key_under_the_new_master_key(
    alice: Persona, charlie: Persona, settings: Any, redis_client: redis.Redis
) -> None:
    settings.SELIXES_MASTER_KEYS = OLD
    keys = [
        actions.add_provider_key(persona.org, "openai", f"{RAW_OPENAI_KEY}-{i}", persona.actor)
        for i, persona in enumerate([alice, alice, alice, charlie, charlie])
    ]

    settings.SELIXES_MASTER_KEYS = f"{NEW},{OLD}"
    # Before the rewrap, the old ciphertexts still open: nothing breaks mid-rotation.
    for i, key in enumerate(keys):
        assert open_provider_key(key) == f"{RAW_OPENAI_KEY}-{i}"
    assert "rewrapped 5 provider key(s) under master key 'new'; republished 2 org(s)" in _rewrap()
    assert "rewrapped 0 provider key(s)" in _rewrap()  # idempotent

    settings.SELIXES_MASTER_KEYS = NEW
    for i, key in enumerate(keys):
        key.refresh_from_db()
        assert MasterKeys.parse(NEW).key_id_of(key.sealed) == "new"
        assert open_provider_key(key) == f"{RAW_OPENAI_KEY}-{i}"
    raw = redis_client.hget(snapshot_key(str(alice.org.id)), "body")
    assert raw is not None
    published = orjson.loads(raw)["provider_keys"]
    assert {entry["sealed"] for entry in published.values()} == {
        k.sealed for k in keys if k.org_id == alice.org.id
    }


def test_a_key_that_opens_under_no_configured_master_key_is_reported(
    alice: Persona, settings: Any
) -> None:
    settings.SELIXES_MASTER_KEYS = OLD
    actions.add_provider_key(alice.org, "openai", RAW_OPENAI_KEY, alice.actor)
    settings.SELIXES_MASTER_KEYS = NEW  # the old key was dropped too early
    with pytest.raises(CommandError, match="1 provider key"):
        _rewrap()
    assert MasterKeys.parse(OLD).key_id_of(ProviderKey.objects.get().sealed) == "old"


def test_a_ciphertext_copied_to_another_orgs_row_does_not_open(
    alice: Persona, charlie: Persona
) -> None:
    alices = actions.add_provider_key(alice.org, "openai", RAW_OPENAI_KEY, alice.actor)
    charlies = actions.add_provider_key(charlie.org, "openai", "sk-charlie-0000000", charlie.actor)
    ProviderKey.objects.filter(id=charlies.id).update(sealed=alices.sealed)
    charlies.refresh_from_db()
    with pytest.raises(CryptoError):
        open_provider_key(charlies)
    # Nor into another row of the same org: the key's id is bound too.
    other = actions.add_provider_key(alice.org, "openai", "sk-other-0000000", alice.actor)
    ProviderKey.objects.filter(id=other.id).update(sealed=alices.sealed)
    other.refresh_from_db()
    with pytest.raises(CryptoError):
        open_provider_key(other)
