"""Tenant snapshots in Redis: published after commit, versioned, never rolled back."""

from __future__ import annotations

import orjson
import pytest
import redis
from django.db import transaction

from gateway.shared.snapshot import CHANNEL, key_index_key, snapshot_key
from tenants import actions
from tenants.models import ApiKey, Organization
from tenants.snapshots import _publish_script, publish_snapshot, republish_stale_snapshots
from tests.conftest import Persona
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(client: redis.Redis, org: Organization) -> dict[str, object]:
    raw = client.hget(snapshot_key(str(org.id)), "body")
    assert raw is not None
    snapshot: dict[str, object] = orjson.loads(raw)
    return snapshot


def test_a_new_key_appears_in_the_snapshot_after_commit(
    alice: Persona, redis_client: redis.Redis
) -> None:
    issued = actions.issue_api_key(alice.project, "app", alice.actor)
    snapshot = _stored(redis_client, alice.org)
    keys = snapshot["keys"]
    assert isinstance(keys, dict)
    entry = keys[issued.prefix]
    assert entry["project_id"] == str(alice.project.id)
    assert issued.secret not in orjson.dumps(snapshot).decode()
    assert redis_client.get(key_index_key(entry["hash"])) == str(alice.org.id).encode()


def test_nothing_is_published_when_the_transaction_rolls_back(
    alice: Persona, redis_client: redis.Redis
) -> None:
    before = _stored(redis_client, alice.org)["version"]
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.issue_api_key(alice.project, "doomed", alice.actor)
        raise RuntimeError("abort")
    assert _stored(redis_client, alice.org)["version"] == before
    assert not ApiKey.objects.filter(name="doomed").exists()


def test_a_revoked_key_leaves_the_snapshot_and_the_index(
    alice: Persona, redis_client: redis.Redis
) -> None:
    issued = actions.issue_api_key(alice.project, "app", alice.actor)
    key = ApiKey.objects.get(id=issued.id)
    actions.revoke_api_key(key, alice.actor)
    keys = _stored(redis_client, alice.org)["keys"]
    assert isinstance(keys, dict)
    assert issued.prefix not in keys
    assert redis_client.get(key_index_key(key.hashed)) is None


def test_an_older_snapshot_never_replaces_a_newer_one(
    alice: Persona, redis_client: redis.Redis
) -> None:
    publish_snapshot(str(alice.org.id))
    current = _stored(redis_client, alice.org)["version"]
    assert isinstance(current, int)
    stale_publish = _publish_script()(
        keys=[snapshot_key(str(alice.org.id))],
        args=[current - 1, b'{"stale": true}', CHANNEL, f"{alice.org.id}:{current - 1}"],
    )
    assert stale_publish == 0
    assert _stored(redis_client, alice.org)["version"] == current


def test_every_change_is_announced_on_the_channel(
    alice: Persona, redis_client: redis.Redis
) -> None:
    pubsub = redis_client.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe(CHANNEL)
    subscribed = pubsub.get_message(timeout=1)
    assert subscribed is not None and subscribed["type"] == "subscribe"
    actions.issue_api_key(alice.project, "app", alice.actor)

    def alices_notice() -> str | None:
        # Pub/sub channels span Redis databases: parallel test workers'
        # notices for their own orgs arrive here too.
        message = pubsub.get_message(timeout=1)
        if message is None or message["type"] != "message":
            return None
        org_id, _, version = str(message["data"].decode()).rpartition(":")
        return version if org_id == str(alice.org.id) else None

    version = eventually(alices_notice, 15, "the notice of alice's new snapshot")
    alice.org.refresh_from_db()
    assert int(version) == alice.org.snapshot_version
    pubsub.close()


def test_lost_snapshots_are_republished_and_current_ones_left_alone(
    alice: Persona, charlie: Persona, redis_client: redis.Redis
) -> None:
    assert republish_stale_snapshots() == 0
    redis_client.delete(snapshot_key(str(charlie.org.id)))
    assert republish_stale_snapshots() == 1
    assert _stored(redis_client, charlie.org)["org_id"] == str(charlie.org.id)
