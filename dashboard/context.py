"""Template context shared by every dashboard page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tenants.models import Membership, User


def navigation(request: HttpRequest) -> dict[str, object]:
    """Give templates the auth mode and, lazily, the user's orgs for the org switcher."""
    user = getattr(request, "user", None)

    def memberships() -> list[Membership]:
        if not isinstance(user, User):
            return []
        rows = Membership.objects.select_related("org").filter(user=user)
        return list(rows.order_by("org__name"))

    # Lazy: pages without the sidebar (and the API) never pay for the query.
    return {"auth_mode": settings.SELIXES_AUTH, "user_memberships": SimpleLazyObject(memberships)}
