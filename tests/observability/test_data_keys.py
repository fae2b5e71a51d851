"""Trace data keys: made ahead when observability turns on and by beat, one per org and day,
published only while observability is on, re-sealed by rewrap_secrets."""

from __future__ import annotations

import base64
import os
import threading
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from gateway.sealing import master_keys
from gateway.shared.crypto import CryptoError, MasterKeys, data_key_context
from observability import actions
from observability.data_keys import (
    create_keys_ahead,
    ensure_data_keys,
    open_data_key,
    seal_data_key,
    utc_today,
)
from observability.models import DataKey
from tenants.models import Organization
from tests.conftest import Persona
from tests.gateway.pii_policy.conftest import stored_snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def days_of(org: Organization) -> list[date]:
    return list(DataKey.objects.filter(org=org).order_by("day").values_list("day", flat=True))


def version_of(org: Organization) -> int:
    return Organization.objects.get(id=org.id).snapshot_version


def test_turning_observability_on_publishes_the_keys_of_today_and_the_next_two_days(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    assert DataKey.objects.count() == 0
    alice_api.put("/api/v1/observability/", {"enabled": True}, format="json")
    today = utc_today()
    expected = [today + timedelta(days=n) for n in range(3)]
    assert days_of(alice.org) == expected
    published = stored_snapshot(redis_client, alice.org)["observability"]["data_keys"]
    assert sorted(published) == [day.isoformat() for day in expected]
    clear = set()
    for day, sealed in published.items():
        key = master_keys().open(sealed, data_key_context(str(alice.org.id), day))
        assert len(key) == 32
        clear.add(key)
        # Bound to its org and day: copied to another day or org it does not open.
        with pytest.raises(CryptoError):
            master_keys().open(sealed, data_key_context(str(alice.org.id), "1999-01-01"))
    assert len(clear) == 3  # a key per day, never the same one
    assert all(key.hex() not in str(published) for key in clear)


def test_turning_it_off_stops_publishing_keys_and_on_again_reuses_them(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    alice_api.put("/api/v1/observability/", {"enabled": True}, format="json")
    first = stored_snapshot(redis_client, alice.org)["observability"]["data_keys"]
    alice_api.put("/api/v1/observability/", {"enabled": False}, format="json")
    assert stored_snapshot(redis_client, alice.org)["observability"]["data_keys"] == {}
    alice_api.put("/api/v1/observability/", {"enabled": True}, format="json")
    assert stored_snapshot(redis_client, alice.org)["observability"]["data_keys"] == first
    assert DataKey.objects.filter(org=alice.org).count() == 3


def test_the_snapshot_carries_yesterday_to_the_day_after_tomorrow_that_exist(
    alice: Persona, redis_client: redis.Redis
) -> None:
    today = utc_today()
    for offset in (-3, -2, -1, 3, 4):
        day = today + timedelta(days=offset)
        DataKey.objects.create(
            org=alice.org, day=day, sealed=seal_data_key(str(alice.org.id), day, os.urandom(32))
        )
    actions.set_org_observability(alice.org, True, alice.actor)
    published = stored_snapshot(redis_client, alice.org)["observability"]["data_keys"]
    assert sorted(published) == [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1, 2)]


def test_keys_are_made_once_per_org_and_day_however_many_race(alice: Persona) -> None:
    day = date(2030, 1, 1)
    start = threading.Barrier(4)
    made: list[int] = []

    def make() -> None:
        try:
            start.wait()
            made.append(ensure_data_keys(Organization.objects.get(id=alice.org.id), day))
        finally:
            connection.close()

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(made) == 3
    assert days_of(alice.org) == [day, day + timedelta(days=1), day + timedelta(days=2)]
    assert ensure_data_keys(alice.org, day) == 0


def test_beat_makes_keys_ahead_for_orgs_keeping_traces_and_republishes_only_those(
    alice: Persona, charlie: Persona, redis_client: redis.Redis
) -> None:
    # Alice's org keeps traces for one project only; Globex keeps none.
    actions.set_project_observability(alice.project, True, alice.actor)
    today = utc_today()
    assert days_of(alice.org) == [today + timedelta(days=n) for n in range(3)]
    alices, charlies = version_of(alice.org), version_of(charlie.org)

    tomorrow = today + timedelta(days=1)
    assert create_keys_ahead(tomorrow) == 1
    assert days_of(alice.org) == [today + timedelta(days=n) for n in range(4)]
    assert days_of(charlie.org) == []
    assert version_of(alice.org) == alices + 1
    assert version_of(charlie.org) == charlies
    # Republished: the proxies hold the org's latest snapshot (its window follows the real day).
    assert stored_snapshot(redis_client, alice.org)["version"] == alices + 1

    # Nothing missing: nothing made, nothing republished.
    assert create_keys_ahead(tomorrow) == 0
    assert version_of(alice.org) == alices + 1

    actions.clear_project_observability(alice.project, alice.actor)
    assert create_keys_ahead(today + timedelta(days=10)) == 0
    assert len(days_of(alice.org)) == 4


def test_beat_runs_the_task_at_least_hourly() -> None:
    entries = [
        entry
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "observability.tasks.create_data_keys_ahead"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, float) and schedule <= 3600


def _random_master_key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def test_rewrap_secrets_reseals_data_keys_and_traces_keep_opening(
    alice: Persona, charlie: Persona, settings: Any, redis_client: redis.Redis
) -> None:
    old, new = _random_master_key("old"), _random_master_key("new")
    settings.SELIXES_MASTER_KEYS = old
    actions.set_org_observability(alice.org, True, alice.actor)
    actions.set_org_observability(charlie.org, True, charlie.actor)
    clear = {row.id: open_data_key(row) for row in DataKey.objects.all()}
    assert len(clear) == 6

    settings.SELIXES_MASTER_KEYS = f"{new},{old}"
    out = StringIO()
    call_command("rewrap_secrets", "--batch-size", "4", stdout=out)
    assert "rewrapped 6 trace data key(s); republished 2 org(s); 0 failed" in out.getvalue()
    again = StringIO()
    call_command("rewrap_secrets", stdout=again)
    assert "rewrapped 0 trace data key(s)" in again.getvalue()

    settings.SELIXES_MASTER_KEYS = new  # the old master key can go
    for row in DataKey.objects.all():
        assert MasterKeys.parse(new).key_id_of(row.sealed) == "new"
        assert open_data_key(row) == clear[row.id]  # the same key: old traces still open
    published = stored_snapshot(redis_client, alice.org)["observability"]["data_keys"]
    assert set(published.values()) == set(
        DataKey.objects.filter(org=alice.org).values_list("sealed", flat=True)
    )
