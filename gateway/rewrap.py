"""Re-seal provider keys under the current master key, so an old master key can be retired.

Rolling a master key (gateway/proxy/crypto.py): put the new key first in
SELIXES_MASTER_KEYS everywhere, run `manage.py rewrap_secrets`, wait for the
snapshots to land, then drop the old key.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import models, transaction
from django.db.models import QuerySet

from gateway.models import ProviderKey
from gateway.sealing import master_keys, open_provider_key, seal_provider_key
from gateway.shared.crypto import VERSION, CryptoError, MasterKeys
from tenants.models import Organization
from tenants.snapshots import bump_and_publish

log = logging.getLogger(__name__)
BATCH_SIZE = 200
Row = TypeVar("Row", bound=models.Model)


@dataclass
class RewrapResult:
    current_key_id: str
    rewrapped: int = 0
    failed: int = 0
    orgs: set[uuid.UUID] = field(default_factory=set)


def rewrap_provider_keys(batch_size: int = BATCH_SIZE) -> RewrapResult:
    """Re-seal every provider key not sealed under the current master key; idempotent."""

    def stale(keys: MasterKeys) -> QuerySet[ProviderKey]:
        # Revoked keys have no ciphertext left; current ones are left alone.
        return ProviderKey.objects.exclude(sealed="").exclude(sealed__startswith=sealed_by(keys))

    def reseal(key: ProviderKey, keys: MasterKeys) -> None:
        key.sealed = seal_provider_key(key, open_provider_key(key, keys), keys)

    # The id only: never the key, and the sealed value is no one's business.
    return rewrap_rows(stale, "id", reseal, lambda key: f"provider key {key.id}", batch_size)


def sealed_by(keys: MasterKeys) -> str:
    """The prefix of a value sealed under the current master key."""
    return f"{VERSION}.{keys.current}."


def rewrap_rows(
    stale: Callable[[MasterKeys], QuerySet[Row]],
    page_field: str,
    reseal: Callable[[Row, MasterKeys], None],
    name: Callable[[Row], str],
    batch_size: int = BATCH_SIZE,
) -> RewrapResult:
    """Re-seal, batch by batch, the rows `stale` finds (each has `sealed` and `org_id`).

    `reseal` opens a row's value under any configured master key and seals it
    under the current one, raising CryptoError when it does not open; `name`
    says which row failed, for the log.
    """
    keys = master_keys()
    result = RewrapResult(current_key_id=keys.current)
    after: object = None
    while True:
        after = _rewrap_batch(keys, stale, page_field, reseal, name, after, batch_size, result)
        if after is None:
            return result


@transaction.atomic
def _rewrap_batch(
    keys: MasterKeys,
    stale: Callable[[MasterKeys], QuerySet[Row]],
    page_field: str,
    reseal: Callable[[Row, MasterKeys], None],
    name: Callable[[Row], str],
    after: object,
    batch_size: int,
    result: RewrapResult,
) -> object:
    """Re-seal one batch in one transaction; return the last page key seen, or None when done."""
    rows = stale(keys)
    if after is not None:
        rows = rows.filter(**{f"{page_field}__gt": after})
    batch = list(rows.select_for_update().order_by(page_field)[:batch_size])
    orgs: set[uuid.UUID] = set()
    for row in batch:
        try:
            reseal(row, keys)
        except CryptoError as e:
            log.error("%s does not open: %s", name(row), e)
            result.failed += 1
            continue
        row.save(update_fields=["sealed"])
        orgs.add(row.org_id)  # type: ignore[attr-defined]
        result.rewrapped += 1
    # Publish in the same transaction: the proxy must hold the new ciphertexts
    # before anyone drops the old master key.
    for org in Organization.objects.filter(id__in=orgs):
        bump_and_publish(org)
    result.orgs |= orgs
    return getattr(batch[-1], page_field) if batch else None
