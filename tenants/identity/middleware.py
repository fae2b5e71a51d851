"""Clerk mode: the Clerk session token, not Django's session, says who is calling.

The token comes from `Authorization: Bearer <jwt>` or, failing that, the
`__session` cookie Clerk's frontend sets. Management tokens (`mt-…`) are
left to tenants.api.auth. Anything that does not verify leaves the request
anonymous; the dashboard then redirects to CLERK_SIGN_IN_URL and the API
answers 401.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from tenants.identity.clerk import ClerkSession, verify_session_token
from tenants.identity.sync import sign_in
from tenants.models import User

log = logging.getLogger(__name__)
SESSION_COOKIE = "__session"
MANAGEMENT_TOKEN_PREFIX = "mt-"


class PresentedToken(NamedTuple):
    token: str
    in_header: bool


def presented_token(request: HttpRequest) -> PresentedToken | None:
    """Return the Clerk token the request carries, header first, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        value = value.strip()
        if value.startswith(MANAGEMENT_TOKEN_PREFIX):
            return None
        return PresentedToken(value, in_header=True)
    cookie = request.COOKIES.get(SESSION_COOKIE)
    return PresentedToken(cookie, in_header=False) if cookie else None


def _sign_in(session: ClerkSession) -> User | None:
    try:
        return sign_in(session)
    except DatabaseError as e:
        # Never a 500 for a sign-in; the next request upserts again. Only the
        # type is logged: a constraint message would quote an email address.
        log.error("clerk just-in-time sync failed: %s", type(e).__name__)
        return None


def _authenticate(request: HttpRequest) -> None:
    user: User | AnonymousUser = AnonymousUser()
    clerk_org_id: str | None = None
    presented = presented_token(request)
    session = verify_session_token(presented.token) if presented else None
    if presented and session:
        signed_in = _sign_in(session)
        if signed_in is not None:
            user = signed_in
            clerk_org_id = session.org.clerk_org_id if session.org else None
            if presented.in_header:
                # A bearer header cannot be attached by a cross-site form or
                # link, so CSRF does not apply; the __session cookie can, so
                # cookie requests keep Django's (and DRF's) CSRF check.
                request.csrf_processing_done = True  # type: ignore[attr-defined]
    # Replace whatever AuthenticationMiddleware found in the Django session.
    request.user = user

    async def auser() -> User | AnonymousUser:
        return user

    request.auser = auser
    # tenants.scoping.current_membership picks the token's active org by it.
    request.clerk_org_id = clerk_org_id  # type: ignore[attr-defined]


class ClerkAuthenticationMiddleware:
    """In Clerk mode, set request.user and request.clerk_org_id from the Clerk session token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SELIXES_AUTH == "clerk":
            _authenticate(request)
        return self.get_response(request)
