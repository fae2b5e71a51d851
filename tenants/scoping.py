"""Find the requesting member's org and filter every query by it.

Another org's object must answer 404, never 403 (DESIGN.md, Tenancy), so
lookups go through `for_org` and never through a bare `objects.get`.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from tenants.models import Membership, Organization, User

M = TypeVar("M", bound=Model)
SESSION_ORG_KEY = "org_id"


def for_org(queryset: QuerySet[M], org: Organization) -> QuerySet[M]:
    return queryset.filter(org=org)


def get_for_org(queryset: QuerySet[M], org: Organization, **lookup: object) -> M:
    """Return the object of this org matching `lookup`, or raise Http404 (also for bad ids)."""
    try:
        return for_org(queryset, org).get(**lookup)
    # A malformed id (not a UUID) is just another object that is not there.
    except (ObjectDoesNotExist, ValidationError, ValueError) as e:
        raise Http404 from e


def membership_for(user: User, org_slug: str) -> Membership:
    """Return the user's membership in the org with this slug, or raise Http404."""
    membership = (
        Membership.objects.select_related("org").filter(user=user, org__slug=org_slug).first()
    )
    if membership is None:
        raise Http404
    return membership


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the org the user last chose (Clerk: the token's active org)."""
    user = request.user
    if not isinstance(user, User):
        return None
    memberships = Membership.objects.select_related("org").filter(user=user)
    clerk_org_id = getattr(request, "clerk_org_id", None)
    if clerk_org_id:
        return memberships.filter(org__clerk_org_id=clerk_org_id).first()
    chosen = request.session.get(SESSION_ORG_KEY)
    if chosen:
        found = memberships.filter(org_id=chosen).first()
        if found:
            return found
    return memberships.order_by("created_at").first()
