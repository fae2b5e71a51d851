"""PII policies (the org's, and a project's override) and the org's pseudonymization key.

A policy is stored as the proxy reads it (gateway.shared.snapshot.PiiPolicyEntry):
entities as {TYPE: action}, custom patterns as [{name, regex, action}];
gateway.pii_policy.specs checks both before anything is written.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from tenants.models import Organization, Project, User


class Action(models.TextChoices):
    """What the proxy does with a finding of an entity type."""

    MASK = "mask", "Mask ([EMAIL])"
    PSEUDONYMIZE = "pseudonymize", "Pseudonymize (<EMAIL_3f2a9c>)"
    BLOCK = "block", "Block the request (400)"
    ALLOW = "allow", "Allow (count only)"


class PiiPolicy(models.Model):
    """The PII policy of an org (project None) or of one project, which replaces the org's whole."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pii_policies")
    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="pii_policy"
    )
    enabled = models.BooleanField(default=False)
    # {TYPE: action}; a type not named is not scanned for.
    entities = models.JSONField(default=dict)
    # [{name, regex, action}], RE2 syntax, checked to compile when saved.
    custom_patterns = models.JSONField(default=list)
    restore_in_response = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "PII policies"
        constraints = [
            # One org policy per org; a project has at most one (the OneToOneField).
            models.UniqueConstraint(
                fields=["org"], condition=Q(project=None), name="pii_policy_one_per_org"
            ),
        ]

    def __str__(self) -> str:
        return "PII policy of the organization" if self.project_id is None else "PII policy"


class PiiSecret(models.Model):
    """The org's pseudonymization key: 32 random bytes, kept only sealed under the master keys."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="pii_secret"
    )
    # MasterKeys.seal(secret, crypto.pii_secret_context(org_id)): bound to this org.
    sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "pseudonymization key"
