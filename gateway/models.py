"""Routes and provider keys: which models an org's aliases reach, and with whose keys."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from gateway.shared.providers_catalog import PROVIDER_CHOICES, PROVIDER_LABELS
from tenants.models import Organization, User

# Bounds shared by the API, the dashboard and the database constraints.
MAX_DEPLOYMENTS = 16
WEIGHT_MIN, WEIGHT_MAX = 1, 1000
QUALITY_MIN, QUALITY_MAX = 0, 100
TIMEOUT_MIN_S, TIMEOUT_MAX_S = 1.0, 3600.0
CONNECT_TIMEOUT_MIN_S, CONNECT_TIMEOUT_MAX_S = 0.5, 120.0
PRICE_DECIMAL_PLACES = 6
PRICE_MAX = Decimal("100000")  # USD per million tokens
ALIAS_MAX_LENGTH = 100
# Failover bounds a route may set (gateway.proxy.routing.failover).
MAX_ATTEMPTS_MIN, MAX_ATTEMPTS_MAX = 1, MAX_DEPLOYMENTS
DEADLINE_MIN_S, DEADLINE_MAX_S = 0.1, 3600.0
API_BASE_MAX_LENGTH = 2048


class Strategy(models.TextChoices):
    PRIORITY = "priority", "Priority (in order, fail over to the next)"
    LATENCY = "latency", "Lowest latency"
    COST = "cost", "Lowest cost"
    WEIGHTED = "weighted", "Weighted random"


class ProviderKey(models.Model):
    """An org's own provider API key (BYOK), kept only sealed under the master keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="provider_keys")
    provider = models.CharField(max_length=32, choices=PROVIDER_CHOICES)
    name = models.CharField(max_length=100, blank=True)
    # MasterKeys.seal(key, provider_key_context(org_id, id)): bound to this row.
    sealed = models.TextField()
    last4 = models.CharField(max_length=4)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        name = f" {self.name}" if self.name else ""
        return f"{self.provider_label} key{name} (…{self.last4})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS.get(self.provider, self.provider)


class Route(models.Model):
    """A model alias of an org and how a request for it picks a deployment."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="routes")
    # Case-sensitive, as the proxy looks it up: "gpt-4o" and "GPT-4o" are two aliases.
    model = models.CharField(max_length=ALIAS_MAX_LENGTH)
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    min_quality = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(QUALITY_MIN), MaxValueValidator(QUALITY_MAX)],
    )
    # Failover: at most this many attempts (None: each deployment once), and no
    # new attempt after deadline_s from the request's arrival (None: none).
    max_attempts = models.PositiveSmallIntegerField(null=True, blank=True)
    deadline_s = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "model"], name="route_unique_model_per_org"),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True)
                | Q(max_attempts__gte=MAX_ATTEMPTS_MIN, max_attempts__lte=MAX_ATTEMPTS_MAX),
                name="route_max_attempts_in_bounds",
            ),
            models.CheckConstraint(
                condition=Q(deadline_s__isnull=True)
                | Q(deadline_s__gte=DEADLINE_MIN_S, deadline_s__lte=DEADLINE_MAX_S),
                name="route_deadline_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.model


class Deployment(models.Model):
    """One place a route can send a request: provider, model, address, key and price."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="deployments")
    position = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=32, choices=PROVIDER_CHOICES)
    model = models.CharField(max_length=200)
    # None, never "", for "not given": the API and the snapshot both say null.
    api_base = models.CharField(max_length=API_BASE_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    api_version = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    # RESTRICT: a key in use is never deleted under a route (revoking it answers 409),
    # yet deleting the whole org, which cascades to both, still works.
    provider_key = models.ForeignKey(
        ProviderKey, on_delete=models.RESTRICT, null=True, blank=True, related_name="deployments"
    )
    weight = models.PositiveIntegerField(default=1)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    price_input_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=PRICE_DECIMAL_PLACES, null=True, blank=True
    )
    price_output_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=PRICE_DECIMAL_PLACES, null=True, blank=True
    )
    timeout_s = models.FloatField(default=600.0)
    connect_timeout_s = models.FloatField(default=10.0)
    # Active health pings from Celery beat (gateway.tasks.ping_deployments). Off by
    # default: each ping is a real provider call, a token or so on the tenant's bill.
    health_check = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "position"], name="deployment_unique_position_per_route"
            ),
            models.CheckConstraint(
                condition=Q(price_input_per_mtok__isnull=True, price_output_per_mtok__isnull=True)
                | Q(price_input_per_mtok__isnull=False, price_output_per_mtok__isnull=False),
                name="deployment_price_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=WEIGHT_MIN, weight__lte=WEIGHT_MAX),
                name="deployment_weight_in_bounds",
            ),
            models.CheckConstraint(
                condition=Q(timeout_s__gte=TIMEOUT_MIN_S, timeout_s__lte=TIMEOUT_MAX_S)
                & Q(
                    connect_timeout_s__gte=CONNECT_TIMEOUT_MIN_S,
                    connect_timeout_s__lte=CONNECT_TIMEOUT_MAX_S,
                ),
                name="deployment_timeouts_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS.get(self.provider, self.provider)

    @property
    def snapshot_id(self) -> str:
        """The id the proxy shows in logs and headers: stable while the route keeps its order."""
        return f"{self.route_id}:{self.position}"
