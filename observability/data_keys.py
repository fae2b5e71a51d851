"""Per-org, per-day trace data keys: made ahead, sealed under the master keys, re-sealed later.

The proxy seals each trace under the org's data key of the request's UTC day
(gateway.shared.traces) and keeps nothing when the snapshot holds no key for
that day. So web creates the keys before they are needed: today's and the next
two days' as soon as observability is turned on anywhere in the org (before
that change's snapshot is published), and beat (tasks.create_data_keys_ahead)
keeps the window filled for every org with observability on. A key is 32
random bytes kept only sealed (MasterKeys.seal with data_key_context), so the
row, the snapshot and Redis never hold it in the clear.

Deleting a row is crypto-shredding (retention and GDPR deletion do it):
that day's traces no longer open.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from gateway.rewrap import BATCH_SIZE, RewrapResult, rewrap_rows, sealed_by
from gateway.sealing import master_keys
from gateway.shared.crypto import MasterKeys, data_key_context
from gateway.shared.traces import new_data_key
from observability.models import DataKey
from tenants.models import Organization, Project
from tenants.snapshots import bump_and_publish

log = logging.getLogger(__name__)

# Today and this many days after it get a key ahead of time: beat may be down
# for a day and a half before a proxy finds no key for a request's day.
DAYS_AHEAD = 2
# The snapshot publishes keys from yesterday (requests in flight at midnight,
# a proxy whose clock is a little behind) to the day after tomorrow.
PUBLISHED_DAYS_BEFORE = 1


def utc_today() -> date:
    return datetime.now(UTC).date()


def days_ahead(today: date) -> list[date]:
    """The days that must have a key while observability is on: today and DAYS_AHEAD after."""
    return [today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)]


def published_days(today: date) -> list[date]:
    """The days whose keys a snapshot carries (when they exist): yesterday to today + DAYS_AHEAD."""
    return [today + timedelta(days=n) for n in range(-PUBLISHED_DAYS_BEFORE, DAYS_AHEAD + 1)]


def seal_data_key(org_id: str, day: date, key: bytes, keys: MasterKeys | None = None) -> str:
    """Seal a data key for this org and day only: its ciphertext opens as no other's."""
    return (keys or master_keys()).seal(key, data_key_context(org_id, day.isoformat()))


def open_data_key(row: DataKey, keys: MasterKeys | None = None) -> bytes:
    """Return the clear data key; raise crypto.CryptoError when it does not open."""
    context = data_key_context(str(row.org_id), row.day.isoformat())
    return (keys or master_keys()).open(row.sealed, context)


def observability_on_somewhere(org: Organization) -> bool:
    """Whether the org, or any of its projects, keeps traces."""
    return (
        org.observability_enabled
        or Project.objects.filter(org=org, observability_enabled=True).exists()
    )


def orgs_with_observability() -> QuerySet[Organization]:
    """Every org that keeps traces, for itself or in one of its projects."""
    project_on = Project.objects.filter(org=OuterRef("pk"), observability_enabled=True)
    return Organization.objects.filter(Q(observability_enabled=True) | Exists(project_on))


def _create_key(org: Organization, day: date) -> bool:
    """Create the org's key of `day` unless it exists; return whether this call created it.

    Two creators racing (beat and a toggle, two beats) both insert; the unique
    (org, day) constraint keeps the first, and the loser's savepoint rolls back
    its row only, so every proxy and every trace sees one key per day.
    """
    if DataKey.objects.filter(org=org, day=day).exists():
        return False
    sealed = seal_data_key(str(org.id), day, new_data_key())
    try:
        with transaction.atomic():
            DataKey.objects.create(org=org, day=day, sealed=sealed)
    except IntegrityError:
        return False
    return True


def ensure_data_keys(org: Organization, today: date | None = None) -> int:
    """Give the org a key for today and the DAYS_AHEAD days after; return how many were made.

    Call inside the transaction that turns observability on, before its
    snapshot is published (bump_and_publish publishes after commit), so the
    first snapshot that says "on" already carries the keys.
    """
    return sum(_create_key(org, day) for day in days_ahead(today or utc_today()))


def create_keys_ahead(today: date | None = None) -> int:
    """For every org keeping traces, create the missing keys ahead and republish it; return orgs.

    Beat runs this (observability.tasks.create_data_keys_ahead). An org whose
    keys were all there is not republished: nothing it publishes changed.
    """
    day = today or utc_today()
    republished = 0
    for org_id in list(orgs_with_observability().values_list("id", flat=True)):
        if _ensure_and_republish(org_id, day):
            republished += 1
    return republished


@transaction.atomic
def _ensure_and_republish(org_id: uuid.UUID, today: date) -> bool:
    org = Organization.objects.select_for_update().get(id=org_id)
    if not observability_on_somewhere(org):
        return False  # turned off since the list was read
    if ensure_data_keys(org, today) == 0:
        return False
    bump_and_publish(org)
    return True


def published_keys(org: Organization, today: date | None = None) -> dict[str, str]:
    """Day "YYYY-MM-DD" -> sealed key, for the days a snapshot carries that have a key."""
    days: Iterable[date] = published_days(today or utc_today())
    rows = DataKey.objects.filter(org=org, day__in=list(days)).order_by("day")
    return {row.day.isoformat(): row.sealed for row in rows}


def rewrap_data_keys(batch_size: int = BATCH_SIZE) -> RewrapResult:
    """Re-seal every data key not sealed under the current master key; idempotent.

    The clear key never changes, so traces sealed under it keep opening; only
    its ciphertext does, and the org's snapshot is republished with it.
    """

    def stale(keys: MasterKeys) -> QuerySet[DataKey]:
        return DataKey.objects.exclude(sealed__startswith=sealed_by(keys))

    def reseal(row: DataKey, keys: MasterKeys) -> None:
        row.sealed = seal_data_key(str(row.org_id), row.day, open_data_key(row, keys), keys)

    return rewrap_rows(
        stale, "id", reseal, lambda row: f"data key {row.id} of org {row.org_id}", batch_size
    )
