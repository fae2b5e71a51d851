"""Turn observability on or off for an org or a project: one transaction each, audited, published.

Each changes whether proxies keep traces, so each bumps the org's snapshot
version in its transaction and publishes after commit
(tenants.snapshots.bump_and_publish): every proxy follows within a second.
Turning it on anywhere first creates today's and the next days' data keys
(observability.data_keys), in the same transaction, so the snapshot that
says "on" carries the keys to seal with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from observability.data_keys import ensure_data_keys
from tenants import audit
from tenants.audit import Actor
from tenants.models import Organization, Project
from tenants.snapshots import bump_and_publish


@dataclass(frozen=True)
class ProjectObservability:
    """Whether a project's requests keep traces, and whether that is its own setting."""

    enabled: bool
    overridden: bool


def _lock_org(org_id: uuid.UUID) -> Organization:
    """Lock the org row: toggles of one org, and beat's key creation, go one at a time."""
    return Organization.objects.select_for_update().get(id=org_id)


def _word(enabled: bool) -> str:
    return "on" if enabled else "off"


def project_observability(project: Project) -> ProjectObservability:
    """The project's effective setting: its override, else its org's toggle."""
    if project.observability_enabled is not None:
        return ProjectObservability(enabled=project.observability_enabled, overridden=True)
    org_enabled = Organization.objects.values_list("observability_enabled", flat=True).get(
        id=project.org_id
    )
    return ProjectObservability(enabled=org_enabled, overridden=False)


@transaction.atomic
def set_org_observability(org: Organization, enabled: bool, actor: Actor) -> bool:
    """Turn the org's toggle on or off; return whether anything changed."""
    locked = _lock_org(org.id)
    org.observability_enabled = enabled
    if locked.observability_enabled == enabled:
        return False
    locked.observability_enabled = enabled
    locked.save(update_fields=["observability_enabled"])
    if enabled:
        ensure_data_keys(locked)
    audit.record(
        locked,
        actor,
        "observability.updated",
        locked,
        target_label=f"traces {_word(enabled)} (organization)",
    )
    bump_and_publish(locked)
    return True


def _set_override(project: Project, enabled: bool | None, actor: Actor, action: str) -> bool:
    org = _lock_org(project.org_id)
    current = Project.objects.filter(id=project.id).values_list("observability_enabled", flat=True)
    project.observability_enabled = enabled
    if current.get() == enabled:
        return False
    Project.objects.filter(id=project.id).update(observability_enabled=enabled)
    if enabled:
        ensure_data_keys(org)
    state = "follows the organization" if enabled is None else f"traces {_word(enabled)}"
    audit.record(org, actor, action, project, target_label=f"{state} (project {project.name})")
    bump_and_publish(org)
    return True


@transaction.atomic
def set_project_observability(project: Project, enabled: bool, actor: Actor) -> bool:
    """Give the project its own toggle, which wins over the org's; return whether it changed."""
    return _set_override(project, enabled, actor, "observability.project_updated")


@transaction.atomic
def clear_project_observability(project: Project, actor: Actor) -> bool:
    """Drop the project's own toggle, so it follows the org's; return whether there was one."""
    return _set_override(project, None, actor, "observability.project_cleared")
