"""The adapter registry: every provider a route may name has an adapter."""

from __future__ import annotations

import pytest

from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.providers import PROVIDERS, adapter_for
from gateway.shared.providers_catalog import PROVIDERS as ROUTABLE


def test_the_proxy_serves_exactly_the_providers_web_lets_a_route_name() -> None:
    assert set(PROVIDERS) == set(ROUTABLE)


def test_an_unknown_provider_is_a_misconfigured_deployment_not_a_crash() -> None:
    with pytest.raises(MisconfiguredDeployment, match="bedrock"):
        adapter_for("bedrock")


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_adapter_speaks_a_known_wire_format(name: str) -> None:
    assert adapter_for(name).native_format in {"openai", "anthropic", "gemini"}
