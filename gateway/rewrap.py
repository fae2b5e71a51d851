"""Re-seal provider keys under the current master key, so an old master key can be retired.

Rolling a master key (gateway/proxy/crypto.py): put the new key first in
SELIXES_MASTER_KEYS everywhere, run `manage.py rewrap_secrets`, wait for the
snapshots to land, then drop the old key.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from gateway.models import ProviderKey
from gateway.proxy.crypto import VERSION, CryptoError, MasterKeys
from gateway.sealing import master_keys, open_provider_key, seal_provider_key
from tenants.models import Organization
from tenants.snapshots import bump_and_publish

log = logging.getLogger(__name__)
BATCH_SIZE = 200


@dataclass
class RewrapResult:
    current_key_id: str
    rewrapped: int = 0
    failed: int = 0
    orgs: set[uuid.UUID] = field(default_factory=set)


def rewrap_provider_keys(batch_size: int = BATCH_SIZE) -> RewrapResult:
    """Re-seal every provider key not sealed under the current master key; idempotent."""
    keys = master_keys()
    result = RewrapResult(current_key_id=keys.current)
    after: uuid.UUID | None = None
    while True:
        batch_last = _rewrap_batch(keys, after, batch_size, result)
        if batch_last is None:
            return result
        after = batch_last


@transaction.atomic
def _rewrap_batch(
    keys: MasterKeys, after: uuid.UUID | None, batch_size: int, result: RewrapResult
) -> uuid.UUID | None:
    """Re-seal one batch in one transaction; return the last id seen, or None when done."""
    # Revoked keys have no ciphertext left; current ones are left alone.
    stale = ProviderKey.objects.exclude(sealed="").exclude(
        sealed__startswith=f"{VERSION}.{keys.current}."
    )
    if after is not None:
        stale = stale.filter(id__gt=after)
    batch = list(stale.select_for_update().order_by("id")[:batch_size])
    orgs: set[uuid.UUID] = set()
    for key in batch:
        try:
            clear = open_provider_key(key, keys)
        except CryptoError as e:
            # The id only: never the key, and the sealed value is no one's business.
            log.error("provider key %s does not open: %s", key.id, e)
            result.failed += 1
            continue
        key.sealed = seal_provider_key(key, clear, keys)
        key.save(update_fields=["sealed"])
        orgs.add(key.org_id)
        result.rewrapped += 1
    # Publish in the same transaction: the proxy must hold the new ciphertexts
    # before anyone drops the old master key.
    for org in Organization.objects.filter(id__in=orgs):
        bump_and_publish(org)
    result.orgs |= orgs
    return batch[-1].id if batch else None
