"""Managed access: when a deployment is served with the platform's own provider key.

A platform key (SELIXES_PLATFORM_KEY_<PROVIDER>) is the platform's secret and
the platform's money, so two rules hold wherever a deployment is saved, sent
or priced (web's route checks, the proxy's keyring, the health pinger and the
price lookup all ask this module):

- it goes only to its provider's own public endpoint: a deployment with an
  api_base of its own names one of the org's provider keys (BYOK), or is a
  self-hosted server that runs without a key;
- its usage is priced from the platform's price list only: a tenant's price
  override, or its default price for unknown models, would let it set what
  the platform's key costs it (a price of 0 makes every budget moot).

Pure Python: web imports it to refuse such a route when it is saved, and the
proxy applies it again at send time, so a route saved before these rules
existed cannot leak a key or run at a price of its own choosing either.
"""

from __future__ import annotations

from dataclasses import dataclass

# Servers that commonly run without any key (self-hosted): a deployment that
# names no key is sent none. They have no public endpoint of their own, so no
# platform key ever applies to them.
KEYLESS_PROVIDERS = frozenset({"openai_compatible", "vllm", "ollama"})


def uses_platform_key(provider: str, provider_key_id: object | None) -> bool:
    """Whether a deployment would be served with the platform's key for its provider."""
    return provider_key_id is None and provider not in KEYLESS_PROVIDERS


@dataclass(frozen=True)
class Refusal:
    field: str  # the deployment's field to name in the error
    message: str


def refusal(
    provider: str, api_base: str | None, provider_key_id: object | None, has_price: bool
) -> Refusal | None:
    """Say why a deployment may not be saved as given under managed access, or None."""
    if not uses_platform_key(provider, provider_key_id):
        return None
    if api_base is not None:
        return Refusal(
            "provider_key_id",
            "A deployment with its own api_base must name one of your provider keys:"
            f" the platform's {provider} key is only sent to {provider}'s own endpoint"
            " (omit api_base to use it).",
        )
    if has_price:
        return Refusal(
            "price",
            "A deployment served with the platform's key is priced from the platform's"
            " price list; a price of your own is for your own provider keys and"
            " self-hosted servers.",
        )
    return None
