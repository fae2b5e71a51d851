"""Observability's share of a tenant snapshot: the toggle, projects' overrides, the data keys.

add_observability is registered in apps.py (tenants.snapshots.register_part).
The proxy keeps a request's trace when its project's override says so, else
when the org's toggle does, and seals it under that UTC day's key; keys are
published only while observability is on somewhere in the org, so an org
that turned it off hands its proxies nothing to seal with.
"""

from __future__ import annotations

from gateway.shared.snapshot import Snapshot
from observability.data_keys import published_keys
from tenants.models import Organization, Project


def add_observability(snapshot: Snapshot, org: Organization) -> None:
    overrides = {
        str(project_id): bool(enabled)
        for project_id, enabled in Project.objects.filter(org=org)
        .exclude(observability_enabled=None)
        .values_list("id", "observability_enabled")
    }
    on_somewhere = org.observability_enabled or any(overrides.values())
    snapshot["observability"] = {
        "enabled": org.observability_enabled,
        "projects": overrides,
        # The stored ciphertexts, not fresh seals: a republish changes nothing else.
        "data_keys": published_keys(org) if on_somewhere else {},
    }
