"""Template filters of the dashboard."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID

from django import template

from dashboard.request_reasons import reason
from gateway.budgets.status import Counters
from gateway.shared.money import nano_to_usd
from gateway.shared.providers_catalog import PROVIDER_LABELS

register = template.Library()

# AuditEvent.target_type holds the model's class name in lower case.
TARGET_KINDS = {
    "organization": "Organization",
    "team": "Team",
    "project": "Project",
    "apikey": "API key",
    "managementtoken": "Management token",
    "invitation": "Invitation",
    "membership": "Member",
    "route": "Route",
    "providerkey": "Provider key",
    "budget": "Budget",
}


@register.filter
def error_reason(code: str) -> str:
    """What a request log's error code or attempt outcome means, in words."""
    return reason(code)


@register.filter
def provider_label(provider: str) -> str:
    """Name a provider as people know it ("openai_compatible" -> "OpenAI-compatible")."""
    return PROVIDER_LABELS.get(provider, provider)


@register.filter
def redaction_total(redactions: list[dict[str, object]]) -> int:
    """How many values a request had redacted, every entity, prompt and answer together."""
    return sum(int(str(item.get("count", 0))) for item in redactions)


HEALTH_LABELS = {"closed": "healthy", "half_open": "probing", "open": "failing"}


@register.filter
def health_label(health: str) -> str:
    """Say what a circuit breaker's state meant when the router chose a deployment."""
    return HEALTH_LABELS.get(health, health)


@register.filter
def target_kind(target_type: str) -> str:
    """Name an audit event's target type the way the pages name it."""
    return TARGET_KINDS.get(target_type, target_type)


@register.filter
def usd(nano: int | None) -> str:
    """Show nano-USD as dollars with two to six decimals: 12500000000 -> "$12.50"."""
    if nano is None:
        return "—"
    whole, _, fraction = nano_to_usd(nano).partition(".")
    return f"${int(whole):,}.{fraction.rstrip('0').ljust(2, '0')}"


@register.filter
def price(value: Decimal | None) -> str:
    """Show a price per million tokens with two to six decimals: 0.150000 -> "$0.15"."""
    if value is None:
        return "—"
    whole, _, fraction = f"{value:.6f}".partition(".")
    return f"${int(whole):,}.{fraction.rstrip('0').ljust(2, '0')}"


@register.filter
def rate(value: int | None) -> str:
    """Show a rate limit: 60000 -> "60,000"; None -> "No limit"."""
    return "No limit" if value is None else f"{value:,}"


def _percent(part: int, whole: int) -> int:
    return min(100, part * 100 // whole) if whole > 0 else 100


@register.filter
def used_percent(counters: Counters, limit: int) -> int:
    """Spent plus reserved, as a whole percentage of the limit (at most 100)."""
    return counters.used_percent(limit)


@register.filter
def spent_percent(counters: Counters, limit: int) -> int:
    return _percent(counters.spent, limit)


@register.filter
def reserved_percent(counters: Counters, limit: int) -> int:
    """The reserved part of the bar, after the spent part, so the two never pass 100."""
    return min(100 - _percent(counters.spent, limit), _percent(counters.reserved, limit))


@register.filter
def spend_of(spend: Mapping[UUID, int], owner_id: UUID) -> int:
    """Nano-USD a project or key spent, from a spend_by() map; nothing recorded is 0."""
    return spend.get(owner_id, 0)


@register.filter
def thousands(value: int) -> str:
    """A count for people: 1234567 -> "1,234,567"."""
    return f"{value:,}"
