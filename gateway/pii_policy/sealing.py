"""The org's pseudonymization key: made once, kept sealed, opened only by the proxy (and rewrap).

Pseudonyms are HMAC-SHA256 of the value under this key (issue 5), so the same
value gives the same token across the org's requests for as long as the key
lives; it is never rotated by a policy change, only re-sealed by
`manage.py rewrap_secrets` when a master key is rolled.
"""

from __future__ import annotations

import os

from gateway.pii_policy.models import PiiSecret
from gateway.sealing import master_keys
from gateway.shared.crypto import MasterKeys, pii_secret_context
from tenants.models import Organization

SECRET_BYTES = 32


def seal_secret(org_id: str, secret: bytes, keys: MasterKeys | None = None) -> str:
    keys = keys or master_keys()
    return keys.seal(secret, pii_secret_context(org_id))


def open_secret(row: PiiSecret, keys: MasterKeys | None = None) -> bytes:
    """Return the clear key; raise crypto.CryptoError when it does not open."""
    keys = keys or master_keys()
    return keys.open(row.sealed, pii_secret_context(str(row.org_id)))


def ensure_secret(org: Organization) -> None:
    """Give the org its key if it has none; call inside the transaction that saves a policy.

    The caller holds a lock that serializes policy writes of the org, and
    get_or_create on the primary key settles any other race: the first key
    made is the only one ever kept.
    """
    if PiiSecret.objects.filter(org=org).exists():
        return
    sealed = seal_secret(str(org.id), os.urandom(SECRET_BYTES))
    PiiSecret.objects.get_or_create(org=org, defaults={"sealed": sealed})
