"""Template filters of the dashboard."""

from __future__ import annotations

from django import template

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
}


@register.filter
def target_kind(target_type: str) -> str:
    """Name an audit event's target type the way the pages name it."""
    return TARGET_KINDS.get(target_type, target_type)
