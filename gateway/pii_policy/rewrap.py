"""Re-seal the orgs' pseudonymization keys under the current master key (rewrap_secrets).

The clear key never changes, so pseudonyms stay the same across a master-key
rotation; only its ciphertext does.
"""

from __future__ import annotations

from django.db.models import QuerySet

from gateway.pii_policy.models import PiiSecret
from gateway.pii_policy.sealing import open_secret, seal_secret
from gateway.rewrap import BATCH_SIZE, RewrapResult, rewrap_rows, sealed_by
from gateway.shared.crypto import MasterKeys


def rewrap_pii_secrets(batch_size: int = BATCH_SIZE) -> RewrapResult:
    """Re-seal every org's key not sealed under the current master key; idempotent."""

    def stale(keys: MasterKeys) -> QuerySet[PiiSecret]:
        return PiiSecret.objects.exclude(sealed__startswith=sealed_by(keys))

    def reseal(row: PiiSecret, keys: MasterKeys) -> None:
        row.sealed = seal_secret(str(row.org_id), open_secret(row, keys), keys)

    return rewrap_rows(
        stale, "org_id", reseal, lambda row: f"the PII key of org {row.org_id}", batch_size
    )
