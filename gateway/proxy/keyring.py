"""Provider API keys for a deployment: the org's own (BYOK, opened in memory) or the platform's.

BYOK keys arrive sealed in the snapshot and are opened with the master keys
only here, in the proxy's memory; the clear value is cached by its sealed
form, so a rotated or re-wrapped key is simply a new cache entry. Orgs that
bring no key are served by SELIXES_PLATFORM_KEY_<PROVIDER> (managed access),
and only at their provider's own endpoint (gateway.shared.managed_access).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.proxy.errors import MissingProviderKey
from gateway.shared.crypto import CryptoError, MasterKeys, provider_key_context
from gateway.shared.managed_access import KEYLESS_PROVIDERS, refusal
from gateway.shared.snapshot import DeploymentEntry, Snapshot

MAX_CACHED = 10_000


def platform_keys_from(environ: Mapping[str, str]) -> dict[str, str]:
    prefix = "SELIXES_PLATFORM_KEY_"
    return {
        name.removeprefix(prefix).lower(): value
        for name, value in environ.items()
        if name.startswith(prefix) and value
    }


class Keyring:
    def __init__(self, master_keys: MasterKeys | None, platform_keys: dict[str, str]) -> None:
        self._master = master_keys
        self._platform = platform_keys
        self._opened: dict[str, str] = {}

    @classmethod
    def from_settings(cls, master_keys: str, platform_keys: Mapping[str, str]) -> Keyring:
        """SELIXES_MASTER_KEYS ("" = none) and the platform's keys by provider."""
        return cls(MasterKeys.parse(master_keys) if master_keys else None, dict(platform_keys))

    def key_for(self, tenant: Snapshot, deployment: DeploymentEntry) -> str:
        """Return the API key to send for this deployment, or raise MissingProviderKey."""
        key_id = deployment["provider_key_id"]
        if key_id is None:
            provider = deployment["provider"]
            # Checked again here, not only when the route is saved: a route
            # saved before the rule existed must not leak the key either.
            refused = refusal(provider, deployment["api_base"], None, has_price=False)
            if refused is not None:
                raise MissingProviderKey(refused.message)
            if provider in KEYLESS_PROVIDERS:
                return ""
            platform = self._platform.get(provider)
            if platform is None:
                raise MissingProviderKey(f"No {provider} key is configured.")
            return platform
        entry = tenant["provider_keys"].get(key_id)
        if entry is None:
            raise MissingProviderKey("The deployment's provider key was revoked.")
        cached = self._opened.get(entry["sealed"])
        if cached is not None:
            return cached
        if self._master is None:
            raise MissingProviderKey("The proxy has no master keys to open provider keys.")
        try:
            clear = self._master.open(
                entry["sealed"], provider_key_context(tenant["org_id"], key_id)
            ).decode()
        except (CryptoError, UnicodeDecodeError) as e:
            raise MissingProviderKey("The deployment's provider key cannot be opened.") from e
        if len(self._opened) >= MAX_CACHED:
            self._opened.clear()
        self._opened[entry["sealed"]] = clear
        return clear
