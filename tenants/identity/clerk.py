"""Verify a Clerk session token offline and read who it names, in which org, with what role.

Only session tokens are accepted. Clerk also mints machine tokens (`mt_`,
`m2m_`, `oat_`, `ak_` prefixes), OAuth access JWTs (header `typ: at+jwt`),
M2M JWTs (`sub` starting `mch_`) and JWT-template tokens (header `cat`); none
of them proves that a person is signed in to the dashboard, and verifying
the opaque ones would mean a network call, so they are refused up front.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from clerk_backend_api.security import TokenVerificationError, VerifyTokenOptions, verify_token
from clerk_backend_api.security.machine import get_token_type
from clerk_backend_api.security.types import TokenType
from django.conf import settings

from tenants.identity.fields import MAX_CLERK_ID, clean_email
from tenants.models import Role

log = logging.getLogger(__name__)

# Header `cat` values that mean "session token"; the second is stamped on every
# class by instances that opted out of categories. An absent `cat` is a token
# minted before categories existed and is accepted, as Clerk's own SDK does.
SESSION_CATEGORIES = frozenset({"cl_B7d4PD111AAA", "cl_I7d4PD111III"})
OAUTH_JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
ROLE_ALIASES: dict[str, Role] = {
    "admin": Role.ADMIN,
    "member": Role.MEMBER,
    "basic_member": Role.MEMBER,
    "billing": Role.BILLING,
    "billing_manager": Role.BILLING,
}


@dataclass(frozen=True)
class OrgClaim:
    """The active organization a session token names."""

    clerk_org_id: str
    role: Role
    slug: str | None
    name: str | None


@dataclass(frozen=True)
class ClerkSession:
    """What a verified session token proves."""

    clerk_user_id: str
    session_id: str
    email: str | None
    org: OrgClaim | None


class RejectedToken(Exception):
    """A token that does not prove a signed-in Clerk session; the reason is safe to log."""


def normalize_role(raw: object) -> Role:
    """Map a Clerk role key (`org:admin`, `basic_member`, …) onto our three roles."""
    if not isinstance(raw, str):
        return Role.MEMBER
    key = raw.strip().lower().removeprefix("org:")
    # Custom Clerk roles carry no meaning here; the least privilege is member.
    return ROLE_ALIASES.get(key, Role.MEMBER)


def authorized_parties() -> list[str]:
    """Return the origins a token's `azp` may name; default to the dashboard's own origin."""
    if settings.CLERK_AUTHORIZED_PARTIES:
        return list(settings.CLERK_AUTHORIZED_PARTIES)
    site = urlsplit(settings.SITE_URL)
    return [f"{site.scheme}://{site.netloc}"]


def _jwt_key() -> str | None:
    key = settings.CLERK_JWT_KEY
    if not key:
        return None
    # A PEM pasted into an env file often arrives on one line with literal "\n".
    return key.replace("\\n", "\n")


def _issuer_ok(iss: object) -> bool:
    if not isinstance(iss, str):
        return False
    expected = settings.CLERK_ISSUER
    if expected:
        return iss.rstrip("/") == expected.rstrip("/")
    parts = urlsplit(iss)
    return parts.scheme == "https" and bool(parts.netloc)


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def _clerk_id(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_CLERK_ID:
        return value
    return None


def _org_claim(claims: Mapping[str, object]) -> OrgClaim | None:
    org = claims.get("o")
    if isinstance(org, dict):  # v2 tokens: o: {id, rol, slg, per, fpm}
        org_id, role, slug = org.get("id"), org.get("rol"), org.get("slg")
    else:  # v1 tokens
        org_id, role, slug = claims.get("org_id"), claims.get("org_role"), claims.get("org_slug")
    clerk_org_id = _clerk_id(org_id)
    if clerk_org_id is None:
        return None
    # Clerk puts no org name in the default claims; a customized session token may.
    name = claims.get("org_name")
    return OrgClaim(clerk_org_id, normalize_role(role), _text(slug, 60), _text(name, 100))


def _check_kind(token: str) -> None:
    if get_token_type(token) is not TokenType.SESSION_TOKEN:
        raise RejectedToken("machine token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as e:
        raise RejectedToken("malformed") from e
    if header.get("typ") in OAUTH_JWT_TYPES:
        raise RejectedToken("oauth access token")
    category = header.get("cat")
    if category is not None and category not in SESSION_CATEGORIES:
        raise RejectedToken("not a session token category")


def _session_from(claims: Mapping[str, object]) -> ClerkSession:
    user_id = _clerk_id(claims.get("sub"))
    session_id = claims.get("sid")
    # Every Clerk user id starts with user_; M2M JWTs name a machine (mch_).
    if user_id is None or not user_id.startswith("user_"):
        raise RejectedToken("subject is not a user")
    if not isinstance(session_id, str) or not session_id:
        raise RejectedToken("no session id")
    if not isinstance(claims.get("exp"), int | float):
        raise RejectedToken("no expiry")
    if not _issuer_ok(claims.get("iss")):
        raise RejectedToken("issuer")
    # Clerk SDKs treat a pending session (an unfinished sign-in task) as signed out.
    if claims.get("sts", "active") != "active":
        raise RejectedToken("session not active")
    # `email` is not a default claim; a customized session token may carry it.
    email = claims.get("email")
    email = clean_email(email) if isinstance(email, str) else None
    return ClerkSession(user_id, session_id, email, _org_claim(claims))


def _verified_claims(token: str, key: str) -> dict[str, Any]:
    # secret_key stays None: with it, the SDK would fetch JWKS over the network.
    options = VerifyTokenOptions(jwt_key=key, authorized_parties=authorized_parties())
    try:
        claims: dict[str, Any] = verify_token(token, options)
    except TokenVerificationError as e:
        raise RejectedToken(e.reason.value[0]) from e
    return claims


@cache
def _warn_missing_key() -> None:
    # Once per process: a line per request would drown the log.
    log.error("SELIXES_AUTH=clerk but CLERK_JWT_KEY is unset; every request is anonymous")


def verify_session_token(token: str) -> ClerkSession | None:
    """Return the session a Clerk session token proves, or None for any other token."""
    key = _jwt_key()
    if key is None:
        _warn_missing_key()
        return None
    try:
        _check_kind(token)
        return _session_from(_verified_claims(token, key))
    except RejectedToken as e:
        log.debug("clerk token refused: %s", e)
    except Exception as e:
        # Fail closed: whatever a hostile token makes the JWT stack raise, the
        # request is simply anonymous, never a 500. Only the error type is
        # logged, since a message or traceback could quote the token.
        log.warning("clerk token verification failed unexpectedly: %s", type(e).__name__)
    return None
