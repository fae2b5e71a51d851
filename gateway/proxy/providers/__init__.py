"""The provider registry: a deployment's `provider` name -> its adapter.

Adapters hold no per-request state (decoders do), so one instance of each
serves every request.
"""

from __future__ import annotations

from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.providers.anthropic import AnthropicAdapter
from gateway.proxy.providers.azure import AzureOpenAIAdapter
from gateway.proxy.providers.base import NativePassthrough, ProviderAdapter
from gateway.proxy.providers.gemini import GeminiAdapter
from gateway.proxy.providers.openai import FLAVORS, OpenAIAdapter

_anthropic = AnthropicAdapter()

PROVIDERS: dict[str, ProviderAdapter] = {
    **{name: OpenAIAdapter(flavor) for name, flavor in FLAVORS.items()},
    "azure": AzureOpenAIAdapter(),
    "anthropic": _anthropic,
    "gemini": GeminiAdapter(),
}

# Adapters that can forward a client body in their own format (see base.NativePassthrough).
NATIVE: dict[str, NativePassthrough] = {"anthropic": _anthropic}


def adapter_for(provider: str) -> ProviderAdapter:
    """Return the adapter for a provider name; an unknown one is a misconfigured route."""
    try:
        return PROVIDERS[provider]
    except KeyError:
        raise MisconfiguredDeployment(f"Unknown provider {provider!r}.") from None


def native_adapter_for(provider: str, client_format: str) -> NativePassthrough | None:
    """Return the adapter that can take a `client_format` body as is, or None to translate."""
    adapter = NATIVE.get(provider)
    if adapter is None or adapter.native_format != client_format:
        return None
    return adapter
