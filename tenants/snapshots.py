"""Build a tenant's snapshot from the database and publish it to Redis after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import orjson
import redis
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F

from config.redis import get_redis
from gateway.shared.safe_errors import describe
from gateway.shared.snapshot import (
    CHANNEL,
    BudgetDefaults,
    KeyEntry,
    PriceEntry,
    ProjectEntry,
    Snapshot,
    key_index_key,
    snapshot_key,
)
from tenants.models import ApiKey, Organization, Project

log = logging.getLogger(__name__)
LUA_DIR = Path(__file__).resolve().parent.parent / "gateway" / "proxy" / "lua"


# Cached for its source and sha only: callers pass get_redis() on each call, so
# a client made later (another REDIS_URL, cluster mode) is the one used.
@lru_cache(maxsize=1)
def _publish_script() -> redis.commands.core.Script:
    return get_redis().register_script((LUA_DIR / "publish_snapshot.lua").read_text())


# An app's share of an org's snapshot, written into it in place: gateway adds
# routes and provider keys, gateway.budgets the budgets, gateway.pii_policy
# the policies and the org's sealed key. Each registers its part from its
# AppConfig.ready(), so tenants, which publish, import none of those apps
# (they all import tenants: no cycle).
SnapshotPart = Callable[[Snapshot, Organization], None]
_parts: list[SnapshotPart] = []


def register_part(part: SnapshotPart) -> None:
    """Have every snapshot built from now on include `part`; registering twice is harmless."""
    if part not in _parts:
        _parts.append(part)


def _default_price(org: Organization) -> PriceEntry | None:
    given, taken = org.default_price_input_per_mtok, org.default_price_output_per_mtok
    if given is None or taken is None:
        return None
    # Decimal strings with the column's six places, e.g. "2.500000"; never a float.
    return {"input_per_mtok": str(given), "output_per_mtok": str(taken)}


def build_budget_defaults(org: Organization) -> BudgetDefaults:
    return {
        "timezone": org.timezone,
        "default_price": _default_price(org),
        "default_max_output_tokens": org.default_max_output_tokens,
    }


def build_projects(org: Organization) -> dict[str, ProjectEntry]:
    """Every project, limited or not, so the proxy can tell "no limit" from "unknown project"."""
    rows = Project.objects.filter(org=org).values_list("id", "rpm_limit", "tpm_limit")
    return {str(project_id): {"rpm_limit": rpm, "tpm_limit": tpm} for project_id, rpm, tpm in rows}


def build_keys(org: Organization) -> dict[str, KeyEntry]:
    keys: dict[str, KeyEntry] = {}
    active = ApiKey.objects.filter(org=org, revoked_at=None).select_related("project")
    for key in active:
        keys[key.prefix] = {
            "id": str(key.id),
            "hash": key.hashed,
            "project_id": str(key.project_id),
            "team_id": str(key.project.team_id) if key.project.team_id else None,
            "user_id": str(key.user_id) if key.user_id else None,
            "rpm_limit": key.rpm_limit,
            "tpm_limit": key.tpm_limit,
        }
    return keys


def build_snapshot(org: Organization) -> Snapshot:
    if not _parts:
        # A snapshot without routes would take every route away from the proxies.
        raise ImproperlyConfigured("no snapshot parts registered: are the gateway apps installed?")
    snapshot: Snapshot = {
        "org_id": str(org.id),
        "version": org.snapshot_version,
        "keys": build_keys(org),
        "routes": {},
        "provider_keys": {},
        "projects": build_projects(org),
        "budgets": [],
        "budget_defaults": build_budget_defaults(org),
    }
    for part in _parts:
        part(snapshot, org)
    return snapshot


def _store(snapshot: Snapshot, add_hashes: list[str], remove_hashes: list[str]) -> int:
    """Store a snapshot unless a newer one is there; update the key index; return 1 if stored."""
    org_id = snapshot["org_id"]
    stored = int(
        _publish_script()(
            client=get_redis(),
            keys=[snapshot_key(org_id)],
            args=[
                snapshot["version"],
                orjson.dumps(snapshot),
                CHANNEL,
                f"{org_id}:{snapshot['version']}",
            ],
        )
    )
    # The index only maps a key hash to its org; whether the key is active is
    # decided by the snapshot, so a stale index entry grants nothing. One
    # command per key: index keys carry no hash tag (Redis Cluster).
    pipe = get_redis().pipeline(transaction=False)
    for hashed in add_hashes:
        pipe.set(key_index_key(hashed), org_id)
    for hashed in remove_hashes:
        pipe.delete(key_index_key(hashed))
    pipe.execute()
    return stored


def publish_snapshot(org_id: str) -> None:
    """Write the org's current snapshot and key index; announce it to proxies."""
    org = Organization.objects.get(id=uuid.UUID(org_id))
    snapshot = build_snapshot(org)
    revoked = ApiKey.objects.filter(org=org).exclude(revoked_at=None)
    stored = _store(
        snapshot,
        add_hashes=[entry["hash"] for entry in snapshot["keys"].values()],
        remove_hashes=list(revoked.values_list("hashed", flat=True)),
    )
    log.info("published snapshot org=%s version=%s stored=%s", org_id, snapshot["version"], stored)


# Long enough that no publish still in flight for a deleted org can land
# after its tombstone; then Redis drops the tombstone.
TOMBSTONE_TTL_SECONDS = 24 * 60 * 60


def retire_snapshot(org: Organization) -> None:
    """After commit, replace a deleted org's snapshot with an empty one and drop its key index.

    Call inside the transaction that deletes the org, before the delete, with
    the org row locked so its snapshot_version is the last one handed out.
    Publishing an empty snapshot one version up (rather than deleting the
    key) makes the Lua script announce it, so every proxy drops its copy, and
    refuses any slower publisher of the old org.
    """
    org_id = str(org.id)
    tombstone: Snapshot = {
        "org_id": org_id,
        "version": org.snapshot_version + 1,
        "keys": {},
        "routes": {},
        "provider_keys": {},
        "projects": {},
        "budgets": [],
        "budget_defaults": build_budget_defaults(org),
    }
    hashes = list(ApiKey.objects.filter(org=org).values_list("hashed", flat=True))

    def publish_tombstone() -> None:
        try:
            _store(tombstone, add_hashes=[], remove_hashes=hashes)
            get_redis().expire(snapshot_key(org_id), TOMBSTONE_TTL_SECONDS)
        except redis.RedisError as e:
            # Nothing in the database is left to retry from; say so loudly.
            log.error("could not retire the snapshot of deleted org=%s: %s", org_id, describe(e))

    transaction.on_commit(publish_tombstone)


def bump_and_publish(org: Organization) -> None:
    """Give the org a new snapshot version in this transaction; publish it after commit.

    Call inside the transaction that made the change. If the publish fails
    (Redis down), the beat task republishes; the proxy keeps refusing keys it
    cannot find, so a failure never grants access.
    """
    Organization.objects.filter(id=org.id).update(snapshot_version=F("snapshot_version") + 1)
    org_id = str(org.id)
    transaction.on_commit(lambda: _publish_quietly(org_id))


def _publish_quietly(org_id: str) -> None:
    try:
        publish_snapshot(org_id)
    except redis.RedisError as e:
        # The beat task compares versions and publishes what is missing.
        log.error("snapshot publish failed for org=%s; beat will retry: %s", org_id, describe(e))


def republish_stale_snapshots() -> int:
    """Publish the snapshot of every org whose Redis copy is missing or older than the database.

    Covers a publish that failed and a Redis that lost its data (restart,
    FLUSHALL, failover to an empty replica).
    """
    orgs = list(Organization.objects.values_list("id", "snapshot_version"))
    pipe = get_redis().pipeline(transaction=False)
    for org_id, _ in orgs:
        pipe.hget(snapshot_key(str(org_id)), "version")
    stored_versions = pipe.execute()
    stale = [
        str(org_id)
        for (org_id, version), stored in zip(orgs, stored_versions, strict=True)
        if stored is None or int(stored) < version
    ]
    for stale_org_id in stale:
        publish_snapshot(stale_org_id)
    return len(stale)
