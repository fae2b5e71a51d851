"""Seal and open provider keys with SELIXES_MASTER_KEYS (gateway.shared.crypto does the crypto)."""

from __future__ import annotations

from django.conf import settings

from gateway.models import ProviderKey
from gateway.shared.crypto import MasterKeys, provider_key_context


def master_keys() -> MasterKeys:
    # Parsed on each use: cheap, and a settings override (key rotation) takes effect at once.
    return MasterKeys.parse(settings.SELIXES_MASTER_KEYS)


def seal_provider_key(key: ProviderKey, api_key: str, keys: MasterKeys | None = None) -> str:
    """Seal `api_key` for this row: its ciphertext opens only as this org's, this id's key."""
    keys = keys or master_keys()
    return keys.seal(api_key.encode(), provider_key_context(str(key.org_id), str(key.id)))


def open_provider_key(key: ProviderKey, keys: MasterKeys | None = None) -> str:
    """Return the clear key; raise crypto.CryptoError when it does not open."""
    keys = keys or master_keys()
    return keys.open(key.sealed, provider_key_context(str(key.org_id), str(key.id))).decode()
