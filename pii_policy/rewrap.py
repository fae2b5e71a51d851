"""Re-seal the orgs' pseudonymization keys under the current master key (rewrap_secrets).

The clear key never changes, so pseudonyms stay the same across a master-key
rotation; only its ciphertext does.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from gateway.proxy.crypto import VERSION, CryptoError, MasterKeys
from gateway.rewrap import BATCH_SIZE, RewrapResult
from gateway.sealing import master_keys
from pii_policy.models import PiiSecret
from pii_policy.sealing import open_secret, seal_secret
from tenants.models import Organization
from tenants.snapshots import bump_and_publish

log = logging.getLogger(__name__)


def rewrap_pii_secrets(batch_size: int = BATCH_SIZE) -> RewrapResult:
    """Re-seal every org's key not sealed under the current master key; idempotent."""
    keys = master_keys()
    result = RewrapResult(current_key_id=keys.current)
    after: uuid.UUID | None = None
    while (after := _rewrap_batch(keys, after, batch_size, result)) is not None:
        pass
    return result


@transaction.atomic
def _rewrap_batch(
    keys: MasterKeys, after: uuid.UUID | None, batch_size: int, result: RewrapResult
) -> uuid.UUID | None:
    """Re-seal one batch in one transaction; return the last org id seen, or None when done."""
    stale = PiiSecret.objects.exclude(sealed__startswith=f"{VERSION}.{keys.current}.")
    if after is not None:
        stale = stale.filter(org_id__gt=after)
    batch = list(stale.select_for_update().order_by("org_id")[:batch_size])
    orgs: set[uuid.UUID] = set()
    for row in batch:
        try:
            clear = open_secret(row, keys)
        except CryptoError as e:
            log.error("the PII key of org %s does not open: %s", row.org_id, e)
            result.failed += 1
            continue
        row.sealed = seal_secret(str(row.org_id), clear, keys)
        row.save(update_fields=["sealed"])
        orgs.add(row.org_id)
        result.rewrapped += 1
    # In the same transaction, as for provider keys: proxies must hold the new
    # ciphertext before anyone drops the old master key.
    for org in Organization.objects.filter(id__in=orgs):
        bump_and_publish(org)
    result.orgs |= orgs
    return batch[-1].org_id if batch else None
