"""Actions that change the tenant tree: each in one transaction, audited, published after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify

from gateway.shared import credentials
from tenants import audit
from tenants.audit import Actor
from tenants.errors import Conflict, Invalid
from tenants.models import (
    ApiKey,
    Invitation,
    ManagementToken,
    Membership,
    Organization,
    Project,
    Role,
    Team,
    User,
)
from tenants.rate_limits import RateLimits, check_rate_limits
from tenants.signals import api_key_revoked
from tenants.snapshots import bump_and_publish


def _hash(secret: str) -> str:
    return credentials.hash_secret(settings.SELIXES_HASH_KEY.encode(), secret)


def slug_for(name: str) -> str:
    slug = slugify(name)[:60].strip("-")
    if not slug:
        raise Invalid("name", "The name must contain at least one letter or digit.")
    return slug


@transaction.atomic
def create_organization(
    owner: User, name: str, actor: Actor, slug: str | None = None
) -> Organization:
    """Create an org with `owner` as its admin; refuse a slug that is taken."""
    slug = slug or slug_for(name)
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict("slug", f"An organization with the address '{slug}' already exists.")
    try:
        with transaction.atomic():
            org = Organization.objects.create(name=name, slug=slug)
    except IntegrityError as e:  # lost a race with a concurrent sign-up
        raise Conflict("slug", f"An organization with the address '{slug}' already exists.") from e
    Membership.objects.create(org=org, user=owner, role=Role.ADMIN)
    audit.record(org, actor, "org.created", org)
    bump_and_publish(org)
    return org


@transaction.atomic
def sign_up(email: str, password: str, org_name: str, ip: str | None) -> tuple[User, Organization]:
    """Create a local account and its organization, or neither."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("email", "An account with this email already exists. Log in instead.")
    user = User.objects.create_user(email=email, password=password)
    org = create_organization(user, org_name, Actor(user=user, label=email, ip=ip))
    return user, org


@transaction.atomic
def create_team(org: Organization, name: str, actor: Actor) -> Team:
    if Team.objects.filter(org=org, name__iexact=name).exists():
        raise Conflict("name", f"A team named '{name}' already exists.")
    team = Team.objects.create(org=org, name=name)
    audit.record(org, actor, "team.created", team)
    return team


@transaction.atomic
def create_project(
    org: Organization,
    name: str,
    actor: Actor,
    team: Team | None = None,
    limits: RateLimits | None = None,
) -> Project:
    if team is not None and team.org_id != org.id:
        raise Invalid("team", "No such team.")
    limits = limits or RateLimits()
    check_rate_limits(limits)
    if Project.objects.filter(org=org, name__iexact=name).exists():
        raise Conflict("name", f"A project named '{name}' already exists.")
    project = Project.objects.create(
        org=org, name=name, team=team, rpm_limit=limits.rpm_limit, tpm_limit=limits.tpm_limit
    )
    audit.record(org, actor, "project.created", project)
    # Projects and their rate limits are in the snapshot (tenants.snapshots).
    bump_and_publish(org)
    return project


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly created key or token; `secret` is never retrievable again."""

    id: str
    secret: str
    prefix: str


@transaction.atomic
def issue_api_key(
    project: Project,
    name: str,
    actor: Actor,
    user: User | None = None,
    limits: RateLimits | None = None,
) -> IssuedSecret:
    """Create an API key for a project; the clear key is returned once and never stored."""
    org = project.org
    if user is not None and not Membership.objects.filter(org=org, user=user).exists():
        raise Invalid("user_id", "That user is not a member of this organization.")
    limits = limits or RateLimits()
    check_rate_limits(limits)
    secret, prefix = credentials.generate(credentials.API_KEY_PREFIX)
    key = ApiKey.objects.create(
        org=org,
        project=project,
        user=user,
        name=name,
        prefix=prefix,
        hashed=_hash(secret),
        created_by=actor.user,
        rpm_limit=limits.rpm_limit,
        tpm_limit=limits.tpm_limit,
    )
    audit.record(org, actor, "api_key.created", key)
    bump_and_publish(org)
    return IssuedSecret(id=str(key.id), secret=secret, prefix=prefix)


@transaction.atomic
def revoke_api_key(key: ApiKey, actor: Actor) -> None:
    """Revoke a key; the proxy refuses it once the snapshot lands (well under a second)."""
    locked = ApiKey.objects.select_for_update().get(id=key.id)
    if locked.revoked_at is not None:
        return
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit.record(locked.org, actor, "api_key.revoked", locked)
    api_key_revoked.send(sender=ApiKey, key=locked, actor=actor)
    bump_and_publish(locked.org)


@transaction.atomic
def issue_management_token(org: Organization, name: str, actor: Actor) -> IssuedSecret:
    secret, prefix = credentials.generate(credentials.MANAGEMENT_TOKEN_PREFIX)
    token = ManagementToken.objects.create(
        org=org, name=name, prefix=prefix, hashed=_hash(secret), created_by=actor.user
    )
    audit.record(org, actor, "management_token.created", token)
    return IssuedSecret(id=str(token.id), secret=secret, prefix=prefix)


@transaction.atomic
def revoke_management_token(token: ManagementToken, actor: Actor) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(token.org, actor, "management_token.revoked", token)


def find_management_token(secret: str) -> ManagementToken | None:
    """Return the token matching `secret`, compared in constant time, while it may act.

    A token acts with its creator's admin role, so it works only while they
    are an active user holding an admin membership of the token's org: checked
    here on every use, whichever path (dashboard, API, Clerk, a shell) ended
    their role. A token without a creator (the creator's account was deleted)
    never works again.
    """
    if not credentials.looks_like(secret, credentials.MANAGEMENT_TOKEN_PREFIX):
        return None
    prefix = credentials.display_prefix(secret, credentials.MANAGEMENT_TOKEN_PREFIX)
    creator_is_admin = Membership.objects.filter(
        org=OuterRef("org"), user=OuterRef("created_by"), role=Role.ADMIN, user__is_active=True
    )
    token = (
        ManagementToken.objects.select_related("org", "created_by")
        .annotate(creator_is_admin=Exists(creator_is_admin))
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not credentials.matches(token.hashed, _hash(secret)):
        return None
    if not token.is_active or not token.creator_is_admin:
        return None
    return token


@transaction.atomic
def revoke_tokens_of_former_admin(org: Organization, user: User, actor: Actor) -> None:
    """Revoke the org's tokens `user` created, now that they are no longer its admin.

    find_management_token already refuses them; revoking too makes the token
    list and the audit log say so, and keeps them dead if the role comes back.
    """
    tokens = ManagementToken.objects.select_for_update().filter(
        org=org, created_by=user, revoked_at=None
    )
    for token in tokens:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            org,
            actor,
            "management_token.revoked",
            token,
            target_label=f"{token} (its creator {user.email} is no longer an admin)",
        )


@transaction.atomic
def invite_member(org: Organization, email: str, role: str, actor: Actor) -> tuple[Invitation, str]:
    """Create an expiring invitation; return it with the clear token for the link."""
    email = email.strip().lower()
    if Membership.objects.filter(org=org, user__email__iexact=email).exists():
        raise Conflict("email", "That person is already a member.")
    token, _ = credentials.generate("inv-")
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    audit.record(org, actor, "member.invited", invitation, target_label=f"{email} as {role}")
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """Return the open, unexpired invitation for `token`, or None."""
    if not credentials.looks_like(token, "inv-"):
        return None
    invitation = Invitation.objects.select_related("org").filter(token_hash=_hash(token)).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None
    if invitation.expires_at <= timezone.now():
        return None
    return invitation


@transaction.atomic
def accept_invitation(invitation: Invitation, user: User, actor: Actor) -> Membership:
    locked = Invitation.objects.select_for_update().get(id=invitation.id)
    if locked.accepted_at or locked.revoked_at or locked.expires_at <= timezone.now():
        raise Invalid("token", "This invitation is no longer valid.")
    membership, _ = Membership.objects.get_or_create(
        org=locked.org, user=user, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    audit.record(locked.org, actor, "member.joined", membership, target_label=user.email)
    return membership


@transaction.atomic
def revoke_invitation(invitation: Invitation, actor: Actor) -> None:
    if invitation.revoked_at or invitation.accepted_at:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(invitation.org, actor, "invitation.revoked", invitation)


def _ensure_an_admin_remains(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(org=membership.org, role=Role.ADMIN)
    if membership.role == Role.ADMIN and admins.count() <= 1:
        raise Conflict("role", "An organization needs at least one admin.")


@transaction.atomic
def change_role(membership: Membership, role: str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise Invalid("role", f"Role must be one of {', '.join(Role.values)}.")
    if role != Role.ADMIN:
        _ensure_an_admin_remains(membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        membership.org,
        actor,
        "member.role_changed",
        membership,
        target_label=f"{membership.user.email}: {old} → {role}",
    )
    if role != Role.ADMIN:
        revoke_tokens_of_former_admin(membership.org, membership.user, actor)
    return membership


@transaction.atomic
def remove_member(membership: Membership, actor: Actor) -> None:
    _ensure_an_admin_remains(membership)
    org = membership.org
    audit.record(org, actor, "member.removed", membership, target_label=membership.user.email)
    # Their management tokens go (a token acts with its creator's admin role), but
    # their API keys stay with the project: a key belongs to a project, and revoking
    # production keys because a person left is the admin's call, not ours.
    revoke_tokens_of_former_admin(org, membership.user, actor)
    membership.delete()


@transaction.atomic
def sign_up_invited(
    email: str, password: str, invitation: Invitation, ip: str | None
) -> tuple[User, Membership]:
    """Create a local account without an org and accept `invitation` with it, or neither."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict("email", "An account with this email already exists. Log in instead.")
    user = User.objects.create_user(email=email, password=password)
    membership = accept_invitation(invitation, user, Actor(user=user, label=email, ip=ip))
    return user, membership
