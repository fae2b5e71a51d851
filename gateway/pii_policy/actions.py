"""Actions on PII policies: one transaction each, audited, published.

Each changes what the proxy does to prompts and answers, so each bumps the
org's snapshot version in its transaction and publishes after commit
(tenants.snapshots.bump_and_publish).
"""

from __future__ import annotations

import uuid

from django.db import transaction

from gateway.pii_policy.models import PiiPolicy
from gateway.pii_policy.sealing import ensure_secret
from gateway.pii_policy.specs import PolicySpec, check_policy
from tenants import audit
from tenants.audit import Actor
from tenants.models import Organization, Project
from tenants.snapshots import bump_and_publish


def describe(spec: PolicySpec, where: str) -> str:
    """One line for the audit log: "on, 5 entity types, 1 custom pattern (organization)"."""
    state = "on" if spec.enabled else "off"
    types = len(spec.entities)
    patterns = len(spec.custom_patterns)
    restore = ", restored in answers" if spec.restore_in_response else ""
    return (
        f"{state}, {types} entity type{'s' if types != 1 else ''}, {patterns} custom"
        f" pattern{'s' if patterns != 1 else ''}{restore} ({where})"
    )


def _lock_org(org_id: uuid.UUID) -> Organization:
    """Lock the org row: policy writes of one org (and the making of its key) go one at a time."""
    return Organization.objects.select_for_update().get(id=org_id)


def _save(policy: PiiPolicy, spec: PolicySpec, actor: Actor) -> None:
    entry = spec.entry()
    policy.enabled = entry["enabled"]
    policy.entities = entry["entities"]
    policy.custom_patterns = entry["custom_patterns"]
    policy.restore_in_response = entry["restore_in_response"]
    policy.updated_by = actor.user
    policy.save()


@transaction.atomic
def set_org_policy(org: Organization, spec: PolicySpec, actor: Actor) -> PiiPolicy:
    """Replace the org's policy wholly; the first policy also makes the org's pseudonym key."""
    check_policy(spec)
    locked = _lock_org(org.id)
    policy = PiiPolicy.objects.filter(org=locked, project=None).first()
    created = policy is None
    if policy is None:
        policy = PiiPolicy(org=locked, project=None)
    elif PolicySpec.of(policy) == spec:
        return policy
    _save(policy, spec, actor)
    ensure_secret(locked)
    action = "pii_policy.created" if created else "pii_policy.updated"
    audit.record(locked, actor, action, policy, target_label=describe(spec, "organization"))
    bump_and_publish(locked)
    return policy


@transaction.atomic
def set_project_policy(project: Project, spec: PolicySpec, actor: Actor) -> tuple[PiiPolicy, bool]:
    """Give a project its own policy, replacing the org's for its keys; return it and if new."""
    check_policy(spec)
    org = _lock_org(project.org_id)
    policy = PiiPolicy.objects.filter(org=org, project=project).first()
    created = policy is None
    if policy is None:
        policy = PiiPolicy(org=org, project=project)
    elif PolicySpec.of(policy) == spec:
        return policy, False
    _save(policy, spec, actor)
    ensure_secret(org)
    action = "pii_policy.created" if created else "pii_policy.updated"
    label = describe(spec, f"project {project.name}")
    audit.record(org, actor, action, policy, target_label=label)
    bump_and_publish(org)
    return policy, created


@transaction.atomic
def delete_project_policy(project: Project, actor: Actor) -> bool:
    """Drop a project's own policy, so the org's applies again; return whether there was one."""
    org = _lock_org(project.org_id)
    policy = PiiPolicy.objects.filter(org=org, project=project).first()
    if policy is None:
        return False
    label = describe(PolicySpec.of(policy), f"project {project.name}")
    audit.record(org, actor, "pii_policy.deleted", policy, target_label=label)
    policy.delete()
    bump_and_publish(org)
    return True
