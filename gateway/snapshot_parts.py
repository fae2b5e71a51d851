"""The gateway's share of a tenant snapshot: routes and provider keys, as the proxy reads them.

add_routes_and_keys is registered in apps.py (tenants.snapshots.register_part).
"""

from __future__ import annotations

from gateway.models import Deployment, ProviderKey, Route
from gateway.shared.snapshot import (
    DeploymentEntry,
    PriceEntry,
    ProviderKeyEntry,
    RouteEntry,
    Snapshot,
)
from tenants.models import Organization


def _price(deployment: Deployment) -> PriceEntry | None:
    given, taken = deployment.price_input_per_mtok, deployment.price_output_per_mtok
    if given is None or taken is None:
        return None
    # Decimal strings with the column's six places, e.g. "2.500000"; never a float.
    return {"input_per_mtok": str(given), "output_per_mtok": str(taken)}


def deployment_entry(deployment: Deployment) -> DeploymentEntry:
    return {
        "id": deployment.snapshot_id,
        "provider": deployment.provider,
        "model": deployment.model,
        "api_base": deployment.api_base,
        "api_version": deployment.api_version,
        "provider_key_id": str(deployment.provider_key_id) if deployment.provider_key_id else None,
        "weight": deployment.weight,
        "quality": deployment.quality,
        "price": _price(deployment),
        "timeout_s": deployment.timeout_s,
        "connect_timeout_s": deployment.connect_timeout_s,
        "health_check": deployment.health_check,
    }


def build_routes(org: Organization) -> dict[str, RouteEntry]:
    routes = Route.objects.filter(org=org).prefetch_related("deployments")
    return {
        route.model: {
            "strategy": route.strategy,
            "min_quality": route.min_quality,
            "max_attempts": route.max_attempts,
            "deadline_s": route.deadline_s,
            "deployments": [deployment_entry(d) for d in route.deployments.all()],
        }
        for route in routes
    }


def build_provider_keys(org: Organization) -> dict[str, ProviderKeyEntry]:
    """Active keys only: a revoked key is absent, so the proxy cannot open it."""
    active = ProviderKey.objects.filter(org=org, revoked_at=None).only("id", "provider", "sealed")
    return {str(key.id): {"provider": key.provider, "sealed": key.sealed} for key in active}


def add_routes_and_keys(snapshot: Snapshot, org: Organization) -> None:
    snapshot["routes"] = build_routes(org)
    snapshot["provider_keys"] = build_provider_keys(org)
