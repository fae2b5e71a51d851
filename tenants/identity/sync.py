"""Mirror Clerk's users, organizations and memberships into the local tenant tables.

Used by both the webhooks and the session middleware (which upserts just in
time, so a member's first request works before the webhooks land). Every
function is idempotent and tolerates a concurrent writer doing the same.
Clerk is the source of truth here: unlike tenants.actions, nothing refuses
to remove the last admin.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.text import slugify

from tenants import audit
from tenants.actions import revoke_tokens_of_former_admin
from tenants.audit import Actor
from tenants.identity.clerk import ClerkSession
from tenants.models import Membership, Organization, Role, User
from tenants.snapshots import bump_and_publish, retire_snapshot

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)
PLACEHOLDER_DOMAIN = "clerk.invalid"
SESSION_ACTOR = Actor.system("clerk session")


class Change(enum.Enum):
    NONE = "none"
    CREATED = "created"
    UPDATED = "updated"


def placeholder_email(clerk_user_id: str) -> str:
    """Return the address a Clerk user has until we learn their real one."""
    return f"{clerk_user_id}@{PLACEHOLDER_DOMAIN}"


def insert_or_fetch(create: Callable[[], M], fetch: Callable[[], M | None]) -> tuple[M, bool]:
    """Insert a row; if a concurrent writer inserted the same one first, return theirs."""
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        existing = fetch()
        if existing is None:
            raise
        return existing, False


def _email_free(email: str, user: User | None) -> bool:
    taken = User.objects.filter(email__iexact=email)
    if user is not None:
        taken = taken.exclude(id=user.id)
    return not taken.exists()


def ensure_user(
    clerk_user_id: str,
    email: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> tuple[User, Change]:
    """Return the local user for a Clerk user id, creating it if needed."""
    user = User.objects.filter(clerk_user_id=clerk_user_id).first()
    if user is not None:
        return user, Change.NONE
    # An address held by another account is never merged into this one:
    # linking accounts by email would let a Clerk sign-up take over a user.
    address = email if email and _email_free(email, None) else placeholder_email(clerk_user_id)

    def create() -> User:
        new = User(
            email=address,
            clerk_user_id=clerk_user_id,
            first_name=(first_name or "")[:150],
            last_name=(last_name or "")[:150],
        )
        new.set_unusable_password()
        new.save(force_insert=True)
        return new

    user, created = insert_or_fetch(
        create, lambda: User.objects.filter(clerk_user_id=clerk_user_id).first()
    )
    return user, Change.CREATED if created else Change.NONE


def upsert_user(
    clerk_user_id: str,
    email: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> tuple[User, Change]:
    """Create or update the local user for a Clerk user; None leaves a field as it is."""
    user, change = ensure_user(clerk_user_id, email, first_name, last_name)
    # A deleted Clerk user stays deleted, whatever late event arrives.
    if change is Change.CREATED or not user.is_active:
        return user, change
    changed: list[str] = []
    if email and email != user.email:
        if _email_free(email, user):
            user.email = email
            changed.append("email")
        else:
            log.warning("clerk user %s: primary email belongs to another account", clerk_user_id)
    if first_name is not None and user.first_name != first_name[:150]:
        user.first_name = first_name[:150]
        changed.append("first_name")
    if last_name is not None and user.last_name != last_name[:150]:
        user.last_name = last_name[:150]
        changed.append("last_name")
    if changed:
        user.save(update_fields=changed)
    return user, Change.UPDATED if changed else Change.NONE


def deactivate_user(clerk_user_id: str, actor: Actor) -> None:
    """Deactivate a deleted Clerk user, end their memberships and forget their address."""
    user = User.objects.select_for_update().filter(clerk_user_id=clerk_user_id).first()
    if user is None:
        # The deletion overtook the creation: keep an inactive row so that a
        # late user.created cannot bring the account back.
        user, _ = ensure_user(clerk_user_id, None)
    for membership in Membership.objects.select_related("org").filter(user=user):
        audit.record(membership.org, actor, "member.removed", membership, target_label=user.email)
        revoke_tokens_of_former_admin(membership.org, user, actor)
        membership.delete()
        bump_and_publish(membership.org)
    user.is_active = False
    user.email = placeholder_email(clerk_user_id)
    user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.save(update_fields=["is_active", "email", "first_name", "last_name", "password"])


def slug_base(text: str) -> str:
    return slugify(text)[:60].strip("-_") or "org"


def unique_slug(base: str, org: Organization | None = None) -> str:
    """Return `base`, or `base-2`, `base-3`… the first one no other org holds."""
    candidate, n = base, 1
    while True:
        taken = Organization.objects.filter(slug=candidate)
        if org is not None:
            taken = taken.exclude(id=org.id)
        if not taken.exists():
            return candidate
        n += 1
        suffix = f"-{n}"
        candidate = f"{base[: 60 - len(suffix)].rstrip('-')}{suffix}"


def _create_organization(clerk_org_id: str, name: str | None, slug: str | None) -> Organization:
    display = (name or slug or clerk_org_id)[:100]
    base = slug_base(slug or name or clerk_org_id)

    def fetch() -> Organization | None:
        return Organization.objects.filter(clerk_org_id=clerk_org_id).first()

    attempts = 3
    while True:
        attempts -= 1
        try:
            org, _ = insert_or_fetch(
                lambda: Organization.objects.create(
                    name=display, slug=unique_slug(base), clerk_org_id=clerk_org_id
                ),
                fetch,
            )
            return org
        except IntegrityError:
            # Someone else took the slug between our check and our insert.
            if attempts == 0:
                raise


def upsert_organization(
    clerk_org_id: str, name: str | None, slug: str | None, actor: Actor
) -> Organization:
    """Create or update the org mirroring a Clerk org; a clashing slug gets a suffix."""
    org = Organization.objects.filter(clerk_org_id=clerk_org_id).first()
    if org is None:
        org = _create_organization(clerk_org_id, name, slug)
        audit.record(org, actor, "org.created", org)
        bump_and_publish(org)
        return org
    changed: list[str] = []
    if name and name[:100] != org.name:
        org.name = name[:100]
        changed.append("name")
    if slug and slug_base(slug) != org.slug:
        wanted = unique_slug(slug_base(slug), org)
        if wanted != org.slug:
            org.slug = wanted
            changed.append("slug")
    if changed:
        org.save(update_fields=changed)
        audit.record(org, actor, "org.updated", org)
        bump_and_publish(org)
    return org


def delete_organization(clerk_org_id: str) -> bool:
    """Delete the org mirroring a Clerk org, and everything in it; False if unknown."""
    org = Organization.objects.select_for_update().filter(clerk_org_id=clerk_org_id).first()
    if org is None:
        return False
    # No audit event: the org's audit trail goes with it (CASCADE).
    retire_snapshot(org)
    org.delete()
    return True


def upsert_membership(org: Organization, user: User, role: Role, actor: Actor) -> Membership:
    """Make `user` a member of `org` with `role`."""

    def fetch() -> Membership | None:
        return Membership.objects.filter(org=org, user=user).first()

    membership, created = fetch(), False
    if membership is None:
        membership, created = insert_or_fetch(
            lambda: Membership.objects.create(org=org, user=user, role=role), fetch
        )
    if created:
        audit.record(org, actor, "member.joined", membership, target_label=user.email)
        bump_and_publish(org)
    elif membership.role != role:
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            org,
            actor,
            "member.role_changed",
            membership,
            target_label=f"{user.email}: {old} → {role}",
        )
        if role != Role.ADMIN:
            revoke_tokens_of_former_admin(org, user, actor)
        bump_and_publish(org)
    return membership


def remove_membership(clerk_org_id: str, clerk_user_id: str, actor: Actor) -> None:
    """End a user's membership of an org, if both are known here."""
    membership = (
        Membership.objects.select_related("org", "user")
        .filter(org__clerk_org_id=clerk_org_id, user__clerk_user_id=clerk_user_id)
        .first()
    )
    if membership is None:
        return
    org = membership.org
    audit.record(org, actor, "member.removed", membership, target_label=membership.user.email)
    revoke_tokens_of_former_admin(org, membership.user, actor)
    membership.delete()
    bump_and_publish(org)


@transaction.atomic
def sign_in(session: ClerkSession) -> User | None:
    """Return the active local user a session proves, upserting them, their org and role."""
    user, _ = upsert_user(session.clerk_user_id, session.email)
    if not user.is_active:
        return None
    if session.org is not None:
        claim = session.org
        org = upsert_organization(claim.clerk_org_id, claim.name, claim.slug, SESSION_ACTOR)
        upsert_membership(org, user, claim.role, SESSION_ACTOR)
    return user
