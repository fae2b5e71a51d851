"""Budgets (what a scope may spend per period) and the ledger of what requests did spend.

Amounts are integer nano-USD (gateway.shared.money): the proxy adds them in
Lua, where only integers up to 2^53 are exact; USD decimal strings exist only
at the edges (API, dashboard).

The ledger is two tables read as one: LedgerEntry, one row per request for
the retention period, and LedgerDayTotal, what older entries added up to per
counter and day once gateway.budgets.compaction folded them in.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q

from gateway.shared.money import usd_to_nano
from tenants.models import Organization, User

# No budget above a million USD: far below what Lua adds exactly (9e15 nano-USD),
# and a larger number is a typo, not a budget.
LIMIT_MAX_USD = Decimal(1_000_000)
LIMIT_MAX_NANO = usd_to_nano(LIMIT_MAX_USD)


class Scope(models.TextChoices):
    """What a budget is attached to; a request is charged in every scope it belongs to."""

    ORG = "org", "Organization"
    TEAM = "team", "Team"
    PROJECT = "project", "Project"
    USER = "user", "Member"
    KEY = "key", "API key"


class Period(models.TextChoices):
    """gateway.shared.budget_windows.PERIODS: when a budget's counter starts again."""

    REQUEST = "request", "Per request"
    DAY = "day", "Per day"
    MONTH = "month", "Per month"
    TOTAL = "total", "In total"


class OnExhausted(models.TextChoices):
    BLOCK = "block", "Refuse the request (402)"
    FALLBACK = "fallback", "Fall back to a cheaper deployment"


def _one_of(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Budget(models.Model):
    """A spending limit of one scope of an org over one period."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="budgets")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    # Not a foreign key: it names a team, project, user or key by scope, as the
    # snapshot does. gateway.budgets.actions checks it belongs to the org.
    scope_id = models.UUIDField()
    limit_nano = models.BigIntegerField()
    period = models.CharField(max_length=16, choices=Period.choices)
    on_exhausted = models.CharField(
        max_length=16, choices=OnExhausted.choices, default=OnExhausted.BLOCK
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # One budget per scope and period: two monthly limits on one project
            # would only ever mean the smaller one.
            models.UniqueConstraint(
                fields=["org", "scope", "scope_id", "period"],
                name="budget_unique_per_scope_and_period",
            ),
            models.CheckConstraint(
                condition=Q(limit_nano__gt=0, limit_nano__lte=LIMIT_MAX_NANO),
                name="budget_limit_in_bounds",
            ),
            models.CheckConstraint(condition=_one_of("scope", Scope), name="budget_scope_known"),
            models.CheckConstraint(condition=_one_of("period", Period), name="budget_period_known"),
            models.CheckConstraint(
                condition=_one_of("on_exhausted", OnExhausted), name="budget_on_exhausted_known"
            ),
            models.CheckConstraint(
                condition=~Q(scope=Scope.ORG) | Q(scope_id=F("org_id")),
                name="budget_org_scope_is_its_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display().lower()} budget of {self.scope} {self.scope_id}"


class LedgerKind(models.TextChoices):
    SETTLED = "settled", "Settled by the proxy"
    REAPED = "reaped", "Charged at its estimate by the reaper"


class LedgerEntry(models.Model):
    """What one request cost, and the budget counters it was charged to (rebuilds read it).

    Kept for SELIXES_RETENTION_DAYS; then gateway.budgets.compaction folds it
    into LedgerDayTotal rows and deletes it.
    """

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    cost_nano = models.BigIntegerField()
    # "<budget_id>:<window_id>" of every counter charged (gateway.shared.budget_windows).
    windows = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [
            GinIndex(fields=["windows"], name="ledger_windows"),
            models.Index(fields=["org", "occurred_at"], name="ledger_org_occurred"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(cost_nano__gte=0), name="ledger_cost_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.request_id}"


# LedgerDayTotal.counter of the row that sums every entry of the org's day,
# whatever counters they were charged to (a label always holds a ":").
ORG_SPEND = "*"


class LedgerDayTotal(models.Model):
    """What an org's compacted ledger entries of one UTC day added up to, per counter and in all.

    One row per (org, counter, day): `counter` is a label the entries were
    charged to ("<budget_id>:<window_id>", as in LedgerEntry.windows), or
    ORG_SPEND for the org's whole spend that day. It names no request: the
    retention promise (CONTRACT.md section 6) keeps no per-request row past
    SELIXES_RETENTION_DAYS, and this is what budgets and billing keep instead.
    """

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    counter = models.CharField(max_length=100)
    # The UTC calendar day the requests occurred on (LedgerEntry.occurred_at);
    # a window's own days are in the org's time zone, and its label says which.
    day = models.DateField()
    cost_nano = models.BigIntegerField()
    # Ledger entries folded into this row.
    requests = models.BigIntegerField()

    class Meta:
        constraints = [
            # The compaction adds to the row with ON CONFLICT on these columns;
            # reads filter by org and counter, then day.
            models.UniqueConstraint(
                fields=["org", "counter", "day"], name="ledger_day_total_per_counter_and_day"
            ),
            models.CheckConstraint(
                condition=Q(cost_nano__gte=0), name="ledger_day_total_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(requests__gt=0), name="ledger_day_total_counts_requests"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counter} on {self.day}"
