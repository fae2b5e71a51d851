"""Actions on budgets and budget settings: one transaction each, audited, published.

Every one of them changes what the proxy enforces, so each bumps the org's
snapshot version in its transaction and publishes after commit
(tenants.snapshots.bump_and_publish).
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.http import Http404

from gateway.budgets.ledger import rebuild_counters
from gateway.budgets.models import Budget, Scope
from gateway.budgets.specs import (
    BudgetSettingsSpec,
    BudgetSpec,
    check_budget,
    check_settings,
)
from gateway.shared.money import nano_to_usd
from tenants import audit
from tenants.audit import Actor
from tenants.errors import Conflict, Invalid
from tenants.models import ApiKey, Membership, Organization, Project, Team
from tenants.scoping import get_for_org
from tenants.snapshots import bump_and_publish

_ADJECTIVES = {"request": "per-request", "day": "daily", "month": "monthly", "total": "total"}


def describe(budget: Budget, scope_label: str) -> str:
    """One line for the audit log: "monthly budget of 50.000000 USD on project Default"."""
    period = _ADJECTIVES[budget.period]
    amount = nano_to_usd(budget.limit_nano)
    return f"{period} budget of {amount} USD on {budget.get_scope_display().lower()} {scope_label}"


def _lock_scope(org: Organization, scope: str, scope_id: uuid.UUID | None) -> tuple[uuid.UUID, str]:
    """Return the id and name of the budget's scope object; 404 unless it is this org's.

    Another org's object reads exactly like one that does not exist (404), as
    it does in URLs. A key is locked, so a concurrent revocation (which
    deletes the key's budgets) waits for this budget or sees it.
    """
    if scope == Scope.ORG:
        if scope_id is not None and scope_id != org.id:
            raise Http404
        return org.id, org.name
    if scope == Scope.TEAM:
        team = get_for_org(Team.objects.all(), org, id=scope_id)
        return team.id, team.name
    if scope == Scope.PROJECT:
        project = get_for_org(Project.objects.all(), org, id=scope_id)
        return project.id, project.name
    if scope == Scope.USER:
        membership = get_for_org(Membership.objects.select_related("user"), org, user_id=scope_id)
        return membership.user_id, membership.user.email
    key = get_for_org(ApiKey.objects.select_for_update(), org, id=scope_id)
    if not key.is_active:
        raise Invalid("scope_id", "That key was revoked; it can no longer spend anything.")
    return key.id, str(key)


@transaction.atomic
def create_budget(org: Organization, spec: BudgetSpec, actor: Actor) -> Budget:
    """Add a budget; refuse (409) a second one for the same scope and period."""
    check_budget(spec)
    scope_id, label = _lock_scope(org, spec.scope, spec.scope_id)
    existing = Budget.objects.filter(
        org=org, scope=spec.scope, scope_id=scope_id, period=spec.period
    ).first()
    if existing is not None:
        raise _duplicate(existing)
    budget = Budget(
        org=org,
        scope=spec.scope,
        scope_id=scope_id,
        limit_nano=spec.limit_nano,
        period=spec.period,
        on_exhausted=spec.on_exhausted,
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            budget.save(force_insert=True)
    except IntegrityError as e:  # a concurrent request created the same budget first
        raise _duplicate(budget) from e
    audit.record(org, actor, "budget.created", budget, target_label=describe(budget, label))
    # Proxies admit budgeted requests only once the org's counters are marked
    # trustworthy; for a first budget that is now (from an empty ledger), before
    # the snapshot that carries the budget is published.
    transaction.on_commit(lambda: rebuild_counters(org))
    bump_and_publish(org)
    return budget


def _duplicate(budget: Budget) -> Conflict:
    period = budget.get_period_display().lower()
    return Conflict(
        "period",
        f"This {budget.get_scope_display().lower()} already has a budget {period}"
        f" ({budget.id}); delete it first to set another limit.",
    )


@transaction.atomic
def delete_budget(budget: Budget, actor: Actor, scope_label: str = "") -> None:
    """Delete a budget; the proxy stops enforcing it once the snapshot lands."""
    locked = Budget.objects.select_for_update().select_related("org").filter(id=budget.id).first()
    if locked is None:
        return
    label = scope_label or str(locked.scope_id)
    audit.record(locked.org, actor, "budget.deleted", locked, target_label=describe(locked, label))
    locked.delete()
    bump_and_publish(locked.org)


def delete_budgets_of_key(sender: object, key: ApiKey, actor: Actor, **_: object) -> None:
    """Delete a revoked key's budgets, inside the revoking transaction (which publishes).

    Receives tenants.signals.api_key_revoked (connected in apps.py).

    A revoked key can never spend again, so its budgets would only clutter the
    list; the ledger keeps what it spent.
    """
    for budget in Budget.objects.select_for_update().filter(
        org_id=key.org_id, scope=Scope.KEY, scope_id=key.id
    ):
        audit.record(
            key.org, actor, "budget.deleted", budget, target_label=describe(budget, str(key))
        )
        budget.delete()


@transaction.atomic
def update_budget_settings(
    org: Organization, spec: BudgetSettingsSpec, actor: Actor
) -> Organization:
    """Set the org's time zone, default price and default max output tokens."""
    check_settings(spec)
    locked = Organization.objects.select_for_update().get(id=org.id)
    price = spec.default_price
    wanted = {
        "timezone": spec.timezone,
        "default_price_input_per_mtok": price.input_per_mtok if price else None,
        "default_price_output_per_mtok": price.output_per_mtok if price else None,
        "default_max_output_tokens": spec.default_max_output_tokens,
    }
    changed = [name for name, value in wanted.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, wanted[name])
    # update_fields: the snapshot version is bumped by its own UPDATE below.
    locked.save(update_fields=changed)
    audit.record(locked, actor, "budget_settings.updated", locked, target_label=", ".join(changed))
    bump_and_publish(locked)
    # As stored: prices with their six places, the new snapshot version.
    locked.refresh_from_db()
    return locked
