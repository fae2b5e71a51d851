"""Rate limits of projects and keys: what they may be, and the actions that set them.

They are columns of the tenant models, published in the snapshot with the
keys and projects (tenants.snapshots); the proxy enforces them
(gateway.proxy.limits). The API's serializers and the dashboard's forms turn
input into RateLimits; the actions check them again before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from tenants import audit
from tenants.audit import Actor
from tenants.errors import Conflict, Invalid
from tenants.models import RPM_LIMIT_MAX, TPM_LIMIT_MAX, ApiKey, Project
from tenants.snapshots import bump_and_publish


@dataclass(frozen=True)
class RateLimits:
    rpm_limit: int | None = None
    tpm_limit: int | None = None


def check_rate_limits(limits: RateLimits) -> None:
    for param, value, maximum in (
        ("rpm_limit", limits.rpm_limit, RPM_LIMIT_MAX),
        ("tpm_limit", limits.tpm_limit, TPM_LIMIT_MAX),
    ):
        if value is not None and not 1 <= value <= maximum:
            raise Invalid(param, f"Must be between 1 and {maximum}, or null for no limit.")


def _limits_label(target: object, limits: RateLimits) -> str:
    def shown(value: int | None) -> str:
        return "none" if value is None else str(value)

    return f"{target}: rpm {shown(limits.rpm_limit)}, tpm {shown(limits.tpm_limit)}"


@transaction.atomic
def set_key_rate_limits(key: ApiKey, limits: RateLimits, actor: Actor) -> ApiKey:
    """Set a key's own requests and tokens per minute (None: no limit of its own)."""
    check_rate_limits(limits)
    locked = ApiKey.objects.select_for_update().select_related("org").get(id=key.id)
    if not locked.is_active:
        raise Conflict("id", "This key was revoked; it can no longer send requests.")
    if (locked.rpm_limit, locked.tpm_limit) == (limits.rpm_limit, limits.tpm_limit):
        return locked
    locked.rpm_limit, locked.tpm_limit = limits.rpm_limit, limits.tpm_limit
    locked.save(update_fields=["rpm_limit", "tpm_limit"])
    label = _limits_label(locked, limits)
    audit.record(locked.org, actor, "api_key.limits_changed", locked, target_label=label)
    bump_and_publish(locked.org)
    return locked


@transaction.atomic
def set_project_rate_limits(project: Project, limits: RateLimits, actor: Actor) -> Project:
    """Set the requests and tokens per minute all of a project's keys share together."""
    check_rate_limits(limits)
    locked = Project.objects.select_for_update().select_related("org").get(id=project.id)
    if (locked.rpm_limit, locked.tpm_limit) == (limits.rpm_limit, limits.tpm_limit):
        return locked
    locked.rpm_limit, locked.tpm_limit = limits.rpm_limit, limits.tpm_limit
    locked.save(update_fields=["rpm_limit", "tpm_limit"])
    label = _limits_label(locked, limits)
    audit.record(locked.org, actor, "project.limits_changed", locked, target_label=label)
    bump_and_publish(locked.org)
    return locked
