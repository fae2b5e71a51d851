"""The PII policy's share of a tenant snapshot: the org's policy, its key, projects' overrides.

add_pii is registered in apps.py (tenants.snapshots.register_part).
"""

from __future__ import annotations

from gateway.pii_policy.models import PiiPolicy, PiiSecret
from gateway.pii_policy.specs import PolicySpec
from gateway.shared.snapshot import PiiPolicyEntry, Snapshot
from tenants.models import Organization


def add_pii(snapshot: Snapshot, org: Organization) -> None:
    """Set the org's policy and sealed key on `snapshot`; both stay absent until they exist."""
    policy = PiiPolicy.objects.filter(org=org, project=None).first()
    if policy is not None:
        snapshot["pii"] = PolicySpec.of(policy).entry()
    # The stored ciphertext, not a fresh seal: the snapshot stays the same across publishes.
    sealed = PiiSecret.objects.filter(org=org).values_list("sealed", flat=True).first()
    if sealed is not None:
        snapshot["pii_secret"] = sealed
    # A project's own PII policy, only where there is one (absent = the org's).
    for project_id, project_policy in build_project_policies(org).items():
        if project_id in snapshot["projects"]:
            snapshot["projects"][project_id]["pii"] = project_policy


def build_project_policies(org: Organization) -> dict[str, PiiPolicyEntry]:
    """Project id -> its own policy, for the projects that have one."""
    rows = PiiPolicy.objects.filter(org=org).exclude(project=None)
    return {str(policy.project_id): PolicySpec.of(policy).entry() for policy in rows}
