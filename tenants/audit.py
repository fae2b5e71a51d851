"""Record admin actions in the org's audit log: who, what, when, from which IP; never a secret."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from tenants.client_address import client_ip
from tenants.models import AuditEvent, Organization, User


@dataclass(frozen=True)
class Actor:
    """Who performs an action, and from where."""

    user: User | None
    label: str
    ip: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest, user: User | None = None) -> Actor:
        actor_user = user if user is not None else _request_user(request)
        label = actor_user.email if actor_user else getattr(request, "auth_label", "anonymous")
        return cls(user=actor_user, label=label, ip=client_ip(request))

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(user=None, label=label)


def _request_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def record(
    org: Organization,
    actor: Actor,
    action: str,
    target: object | None = None,
    target_label: str = "",
) -> AuditEvent:
    """Write one audit event; `target` is a model instance whose id and str() are kept."""
    target_type = type(target).__name__.lower() if target is not None else ""
    target_id = str(getattr(target, "pk", "")) if target is not None else ""
    return AuditEvent.objects.create(
        org=org,
        actor=actor.user,
        actor_label=actor.label[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        ip=actor.ip,
    )
