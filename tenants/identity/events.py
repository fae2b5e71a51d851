"""Apply one verified Clerk webhook event, at most once per svix-id, in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants import audit
from tenants.audit import Actor
from tenants.identity import sync
from tenants.identity.clerk import normalize_role
from tenants.identity.fields import clean_email
from tenants.identity.payloads import (
    ClerkEvent,
    InvitationPayload,
    primary_email,
    read_deleted,
    read_invitation,
    read_membership,
    read_organization,
    read_user,
)
from tenants.models import Invitation, WebhookDelivery

ACTOR = Actor.system("clerk webhook")
# Clerk's invitations last a month unless the payload names an expiry.
CLERK_INVITATION_TTL = timedelta(days=30)

Handler = Callable[[Mapping[str, object]], None]


def _user_upserted(data: Mapping[str, object]) -> None:
    user = read_user(data)
    sync.upsert_user(user["id"], primary_email(user), user["first_name"], user["last_name"])


def _user_deleted(data: Mapping[str, object]) -> None:
    sync.deactivate_user(read_deleted(data)["id"], ACTOR)


def _organization_upserted(data: Mapping[str, object]) -> None:
    org = read_organization(data)
    sync.upsert_organization(org["id"], org["name"], org["slug"], ACTOR)


def _organization_deleted(data: Mapping[str, object]) -> None:
    sync.delete_organization(read_deleted(data)["id"])


def _membership_upserted(data: Mapping[str, object]) -> None:
    membership = read_membership(data)
    clerk_org, person = membership["organization"], membership["public_user_data"]
    org = sync.upsert_organization(clerk_org["id"], clerk_org["name"], clerk_org["slug"], ACTOR)
    # The identifier is only a hint for a user we have not heard of yet;
    # user.created/updated carries the authoritative primary address.
    user, _ = sync.ensure_user(
        person["user_id"],
        clean_email(person["identifier"]),
        person["first_name"],
        person["last_name"],
    )
    if user.is_active:
        sync.upsert_membership(org, user, normalize_role(membership["role"]), ACTOR)


def _membership_deleted(data: Mapping[str, object]) -> None:
    membership = read_membership(data)
    sync.remove_membership(
        membership["organization"]["id"], membership["public_user_data"]["user_id"], ACTOR
    )


def _from_millis(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value is not None else None


def _expiry(payload: InvitationPayload) -> datetime:
    expires_at = _from_millis(payload["expires_at"])
    if expires_at is not None:
        return expires_at
    return (_from_millis(payload["created_at"]) or timezone.now()) + CLERK_INVITATION_TTL


def _mirror_invitation(payload: InvitationPayload) -> Invitation:
    org = sync.upsert_organization(payload["organization_id"], None, None, ACTOR)
    invitation = Invitation.objects.filter(clerk_invitation_id=payload["id"]).first()
    if invitation is not None:
        return invitation
    role = normalize_role(payload["role"])
    invitation, created = sync.insert_or_fetch(
        lambda: Invitation.objects.create(
            org=org,
            email=payload["email_address"],
            role=role,
            # The link is Clerk's; the hash only fills the column and can never
            # be presented as one of our own `inv-` tokens.
            token_hash=hashlib.sha256(f"clerk:{payload['id']}".encode()).hexdigest(),
            clerk_invitation_id=payload["id"],
            expires_at=_expiry(payload),
        ),
        lambda: Invitation.objects.filter(clerk_invitation_id=payload["id"]).first(),
    )
    if not created:
        return invitation
    audit.record(
        org, ACTOR, "member.invited", invitation, target_label=f"{invitation.email} as {role}"
    )
    return invitation


def _invitation_created(data: Mapping[str, object]) -> None:
    _mirror_invitation(read_invitation(data))


def _invitation_accepted(data: Mapping[str, object]) -> None:
    invitation = _mirror_invitation(read_invitation(data))
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit.record(invitation.org, ACTOR, "invitation.accepted", invitation)


def _invitation_revoked(data: Mapping[str, object]) -> None:
    invitation = _mirror_invitation(read_invitation(data))
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(invitation.org, ACTOR, "invitation.revoked", invitation)


HANDLERS: dict[str, Handler] = {
    "user.created": _user_upserted,
    "user.updated": _user_upserted,
    "user.deleted": _user_deleted,
    "organization.created": _organization_upserted,
    "organization.updated": _organization_upserted,
    "organization.deleted": _organization_deleted,
    "organizationMembership.created": _membership_upserted,
    "organizationMembership.updated": _membership_upserted,
    "organizationMembership.deleted": _membership_deleted,
    "organizationInvitation.created": _invitation_created,
    "organizationInvitation.accepted": _invitation_accepted,
    "organizationInvitation.revoked": _invitation_revoked,
}


@transaction.atomic
def apply_event(svix_id: str, event: ClerkEvent) -> bool:
    """Apply the event unless this svix-id was seen before; return whether it was applied.

    The delivery row is written in the same transaction as the changes, so
    a failed event leaves no row behind and Svix's retry is applied in full;
    a concurrent duplicate waits on the row's primary key and is then refused.
    """
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(svix_id=svix_id, event_type=event["type"])
    except IntegrityError:
        return False
    handler = HANDLERS.get(event["type"])
    # Unknown types are recorded as delivered and ignored: Clerk adds new ones.
    if handler is not None:
        handler(event["data"])
    return True
