"""The tenant tree: Organization → Teams → Projects → API keys; Users join through Memberships."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

# Bounds shared by the API, the dashboard and the database constraints.
# Rate limits: requests and tokens per minute; None means no limit.
RPM_LIMIT_MAX = 1_000_000
TPM_LIMIT_MAX = 1_000_000_000
# Output tokens reserved for a request that names no maximum (budgets).
MAX_OUTPUT_TOKENS_MAX = 1_000_000
# Prices are kept as gateway.models.Deployment keeps them (USD per million tokens).
PRICE_MAX_DIGITS, PRICE_DECIMAL_PLACES = 12, 6


def _rate_limit_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(rpm_limit__isnull=True) | Q(rpm_limit__gte=1, rpm_limit__lte=RPM_LIMIT_MAX),
            name=f"{prefix}_rpm_limit_in_bounds",
        ),
        models.CheckConstraint(
            condition=Q(tpm_limit__isnull=True) | Q(tpm_limit__gte=1, tpm_limit__lte=TPM_LIMIT_MAX),
            name=f"{prefix}_tpm_limit_in_bounds",
        ),
    ]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class User(AbstractUser):
    """A person; identified by email. In Clerk mode, also by their Clerk user id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None  # type: ignore[assignment]
    email = models.EmailField(unique=True)
    clerk_user_id = models.CharField(max_length=64, unique=True, null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.email


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    BILLING = "billing", "Billing"


class Organization(models.Model):
    """The tenant. In Clerk mode it mirrors a Clerk organization."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    clerk_org_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # IANA name; day and month budgets reset at midnight in it.
    timezone = models.CharField(max_length=64, default="UTC")
    # What a budget reserves for a model the pricing table does not know
    # (None: such models are refused while a budget applies), and the output
    # tokens reserved when a request names no maximum (None: the model's maximum).
    default_price_input_per_mtok = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, null=True, blank=True
    )
    default_price_output_per_mtok = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, null=True, blank=True
    )
    default_max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Keep payloads as encrypted traces (CONTRACT.md section 6); off by default.
    # A project may override it (Project.observability_enabled).
    observability_enabled = models.BooleanField(default=False)
    # Bumped inside every transaction that changes what the proxy sees; the
    # snapshot published after commit carries it so proxies never go back.
    snapshot_version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    default_price_input_per_mtok__isnull=True,
                    default_price_output_per_mtok__isnull=True,
                )
                | Q(
                    default_price_input_per_mtok__isnull=False,
                    default_price_output_per_mtok__isnull=False,
                ),
                name="org_default_price_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(default_max_output_tokens__isnull=True)
                | Q(
                    default_max_output_tokens__gte=1,
                    default_max_output_tokens__lte=MAX_OUTPUT_TOKENS_MAX,
                ),
                name="org_default_max_output_tokens_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="membership_unique_user_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.role})"


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "org", name="team_unique_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    name = models.CharField(max_length=100)
    # Shared by all of the project's keys; None = no limit.
    rpm_limit = models.PositiveIntegerField(null=True, blank=True)
    tpm_limit = models.PositiveIntegerField(null=True, blank=True)
    # The project's own observability toggle; None = follow the org's.
    observability_enabled = models.BooleanField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "org", name="project_unique_name_per_org"),
            *_rate_limit_constraints("project"),
        ]

    def __str__(self) -> str:
        return self.name


class HashedSecret(models.Model):
    """A secret kept as display prefix + HMAC; the clear value is shown once at creation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=24, unique=True)
    hashed = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKey(HashedSecret):
    """A key an application sends to the proxy; belongs to one project, optionally one user."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="api_keys"
    )
    # This key's own limits, on top of its project's; None = no limit.
    rpm_limit = models.PositiveIntegerField(null=True, blank=True)
    tpm_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = _rate_limit_constraints("api_key")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class ManagementToken(HashedSecret):
    """A bearer token for the management REST API; acts with the admin role in its org."""

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class Invitation(models.Model):
    """An expiring link that lets someone join an org with a role; only its hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    clerk_invitation_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation for {self.email} to {self.org}"


class AuditEvent(models.Model):
    """One admin action: who, what, when, from where. Never holds a secret."""

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    # Kept beside the FK so the trail still reads after the actor is deleted.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at"], name="audit_org_recent")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}"


class WebhookDelivery(models.Model):
    """A processed webhook, kept by its svix-id so a replay is answered but not applied twice."""

    svix_id = models.CharField(max_length=100, primary_key=True)
    event_type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.svix_id
