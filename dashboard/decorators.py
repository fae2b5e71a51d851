"""View decorators: who may open an org's pages, as the role matrix (tenants.roles) says."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeAlias

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from tenants.models import Membership, User
from tenants.roles import Access, Area, may
from tenants.scoping import SESSION_ORG_KEY, membership_for

P = ParamSpec("P")
# HttpResponseBase: an export streams (StreamingHttpResponse), which is no HttpResponse.
OrgView: TypeAlias = Callable[Concatenate[HttpRequest, Membership, P], HttpResponseBase]
# What the URLconf calls: Django passes `slug` and the other URL parts by keyword,
# which a Concatenate'd ParamSpec (positional-only by PEP 612) cannot express.
SlugView: TypeAlias = Callable[..., HttpResponseBase]


def org_view(area: Area, needed: Access = Access.READ) -> Callable[[OrgView[P]], SlugView]:
    """Resolve the org of the URL's slug: log in first, 404 for outsiders, 403 short of `needed`.

    A page that shows a form to change something needs the access that change
    needs, even to be shown (GET), as the API's writes do.
    """

    def decorate(view: OrgView[P]) -> SlugView:
        @wraps(view)
        def wrapper(
            request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponseBase:
            user = request.user
            if not isinstance(user, User):
                return redirect_to_login(request.get_full_path())
            # Outsiders get 404 before anything else, so a slug's existence never leaks.
            membership = membership_for(user, slug)
            org_id = str(membership.org_id)
            # Only write when it changes: a session write per page view is a DB write per view.
            if request.session.get(SESSION_ORG_KEY) != org_id:
                request.session[SESSION_ORG_KEY] = org_id
            if not may(membership.role, area, needed):
                raise PermissionDenied
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorate


def request_user(request: HttpRequest) -> User:
    """Return the logged-in user of a request that a decorator already let through."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
