"""Actions that change routes and provider keys: each in one transaction, audited, published.

Validation that may be slow (resolving an api_base's host name) runs before
the transaction opens, so no row lock is held across a DNS lookup.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from gateway.models import Deployment, ProviderKey, Route
from gateway.sealing import seal_provider_key
from gateway.shared.providers_catalog import PROVIDERS
from gateway.specs import DeploymentSpec, RouteSpec, check_route, clean_alias, clean_api_key
from tenants import audit
from tenants.audit import Actor
from tenants.errors import Conflict, Invalid
from tenants.models import Organization
from tenants.snapshots import bump_and_publish

NAME_MAX_LENGTH = 100


def replace_route(
    org: Organization, alias: str, spec: RouteSpec, actor: Actor, new: bool = False
) -> tuple[Route, bool]:
    """Create or wholly replace the route of `alias`; return it and whether it was created.

    With `new`, refuse (409) to replace a route that exists: a create form must
    not silently overwrite an alias someone else configured.
    """
    alias = clean_alias(alias)
    check_route(spec)
    return _save_route(org, alias, spec, actor, new)


@transaction.atomic
def _save_route(
    org: Organization, alias: str, spec: RouteSpec, actor: Actor, new: bool
) -> tuple[Route, bool]:
    keys = _lock_provider_keys(org, spec.deployments)
    route = Route.objects.select_for_update().filter(org=org, model=alias).first()
    if route is not None and new:
        raise Conflict("model", f"A route for '{alias}' already exists; edit it instead.")
    created = route is None
    if route is None:
        try:
            with transaction.atomic():
                route = Route.objects.create(
                    org=org,
                    model=alias,
                    strategy=spec.strategy,
                    min_quality=spec.min_quality,
                    max_attempts=spec.max_attempts,
                    deadline_s=spec.deadline_s,
                )
        except IntegrityError as e:  # a concurrent PUT created it first
            raise Conflict("model", f"The route '{alias}' was just created; try again.") from e
    else:
        route.strategy = spec.strategy
        route.min_quality = spec.min_quality
        route.max_attempts = spec.max_attempts
        route.deadline_s = spec.deadline_s
        route.save(
            update_fields=["strategy", "min_quality", "max_attempts", "deadline_s", "updated_at"]
        )
        route.deployments.all().delete()
    Deployment.objects.bulk_create(
        _deployment(route, position, d, keys) for position, d in enumerate(spec.deployments)
    )
    audit.record(org, actor, "route.created" if created else "route.updated", route)
    bump_and_publish(org)
    return route, created


def _lock_provider_keys(
    org: Organization, deployments: list[DeploymentSpec]
) -> dict[uuid.UUID, ProviderKey]:
    """Lock the keys the deployments name, so a concurrent revocation waits for this route."""
    wanted = {d.provider_key_id for d in deployments if d.provider_key_id is not None}
    rows = ProviderKey.objects.select_for_update().filter(org=org, id__in=wanted)
    keys = {key.id: key for key in rows.order_by("id")}
    for index, d in enumerate(deployments):
        if d.provider_key_id is None:
            continue
        param = f"deployments.{index}.provider_key_id"
        key = keys.get(d.provider_key_id)
        # Another org's key reads exactly like one that does not exist.
        if key is None:
            raise Invalid(param, "No such provider key.")
        if not key.is_active:
            raise Invalid(param, "That provider key was revoked.")
        if key.provider != d.provider:
            raise Invalid(param, f"That key is a {key.provider} key, not a {d.provider} key.")
    return keys


def _deployment(
    route: Route, position: int, spec: DeploymentSpec, keys: dict[uuid.UUID, ProviderKey]
) -> Deployment:
    price = spec.price
    return Deployment(
        route=route,
        position=position,
        provider=spec.provider,
        model=spec.model,
        api_base=spec.api_base,
        api_version=spec.api_version,
        provider_key=keys[spec.provider_key_id] if spec.provider_key_id else None,
        weight=spec.weight,
        quality=spec.quality,
        price_input_per_mtok=price.input_per_mtok if price else None,
        price_output_per_mtok=price.output_per_mtok if price else None,
        timeout_s=spec.timeout_s,
        connect_timeout_s=spec.connect_timeout_s,
        health_check=spec.health_check,
    )


@transaction.atomic
def delete_route(route: Route, actor: Actor) -> None:
    """Delete a route; the proxy answers model_not_found for its alias once the snapshot lands."""
    locked = Route.objects.select_for_update().filter(id=route.id).first()
    if locked is None:
        return
    org = Organization.objects.get(id=locked.org_id)
    audit.record(org, actor, "route.deleted", locked)
    locked.delete()
    bump_and_publish(org)


def _clean_key_name(name: str) -> str:
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise Invalid("name", f"A name is at most {NAME_MAX_LENGTH} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise Invalid("name", "Control characters are not allowed.")
    return name


@transaction.atomic
def add_provider_key(
    org: Organization, provider: str, api_key: str, actor: Actor, name: str = ""
) -> ProviderKey:
    """Store an org's provider key sealed under the master keys; the clear key is never kept."""
    if provider not in PROVIDERS:
        raise Invalid("provider", f"Provider must be one of {', '.join(PROVIDERS)}.")
    api_key = clean_api_key(api_key)
    key = ProviderKey(
        org=org,
        provider=provider,
        name=_clean_key_name(name),
        last4=api_key[-4:],
        created_by=actor.user,
    )
    # The id exists before the row does, so the ciphertext is bound to it from the start.
    key.sealed = seal_provider_key(key, api_key)
    key.save()
    audit.record(org, actor, "provider_key.created", key)
    bump_and_publish(org)
    return key


@transaction.atomic
def revoke_provider_key(key: ProviderKey, actor: Actor) -> None:
    """Revoke a key and destroy its ciphertext; refuse (409) while a route still uses it."""
    locked = ProviderKey.objects.select_for_update().select_related("org").get(id=key.id)
    if locked.revoked_at is not None:
        return
    aliases = sorted(
        Route.objects.filter(deployments__provider_key=locked)
        .values_list("model", flat=True)
        .distinct()
    )
    if aliases:
        shown = ", ".join(aliases[:5]) + (" …" if len(aliases) > 5 else "")
        raise Conflict(
            "id",
            f"Routes still use this key ({shown}); point their deployments elsewhere first.",
        )
    locked.revoked_at = timezone.now()
    # Nothing may use a revoked key again, so its ciphertext has no reason to stay.
    locked.sealed = ""
    locked.save(update_fields=["revoked_at", "sealed"])
    audit.record(locked.org, actor, "provider_key.revoked", locked)
    bump_and_publish(locked.org)
