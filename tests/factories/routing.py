"""Routes and deployments: as the proxy's snapshot holds them, and as a tenant saves them."""

from __future__ import annotations

from dataclasses import replace

from gateway import actions
from gateway.models import Route
from gateway.shared.snapshot import DeploymentEntry, PriceEntry
from gateway.specs import DeploymentSpec, RouteSpec
from tests.conftest import Persona

# The org's own key for the mock provider, sealed when a route is saved with it.
MOCK_PROVIDER_KEY = "sk-mock-ping-0123456789"


def deployment_entry(
    name: str, quality: int | None = None, price: PriceEntry | None = None
) -> DeploymentEntry:
    """A snapshot's deployment "route:<name>" of model `name`, on an address nothing serves."""
    return {
        "id": f"route:{name}",
        "provider": "openai_compatible",
        "model": name,
        "api_base": "http://127.0.0.1:1/v1",
        "api_version": None,
        "provider_key_id": None,
        "weight": 1,
        "quality": quality,
        "price": price,
        "timeout_s": 60.0,
        "connect_timeout_s": 5.0,
    }


def deployment_spec(mock_url: str, model: str, health_check: bool) -> DeploymentSpec:
    """A deployment of the mock provider (its model name picks the scenario)."""
    return DeploymentSpec(
        provider="openai_compatible",
        model=model,
        api_base=f"{mock_url}/v1",
        health_check=health_check,
    )


def saved_route(persona: Persona, alias: str, *deployments: DeploymentSpec) -> Route:
    """The route, its deployments using the org's own (sealed) key, as a tenant would set it."""
    key = actions.add_provider_key(
        persona.org, "openai_compatible", MOCK_PROVIDER_KEY, persona.actor
    )
    keyed = [replace(d, provider_key_id=key.id) for d in deployments]
    route, _ = actions.replace_route(
        persona.org, alias, RouteSpec("priority", keyed), persona.actor
    )
    return route
