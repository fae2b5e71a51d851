"""Who is calling the management API, and in which org.

Two ways in (CONTRACT.md section 4): a management token (org-scoped, admin
role while its creator is an admin) or the dashboard session (the member's
current org, CSRF-checked). Either way `request.auth` is an OrgContext, every
query filters by it, and `role_may` lets through what the role matrix
(tenants.roles) gives the caller's role, as the dashboard does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from django.http import HttpRequest
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from tenants.actions import find_management_token
from tenants.audit import Actor
from tenants.client_address import client_ip
from tenants.models import Membership, Organization, Role, User
from tenants.roles import Access, Area, may
from tenants.scoping import current_membership

if TYPE_CHECKING:  # rest_framework.views imports this module through settings
    from rest_framework.views import APIView


@dataclass(frozen=True)
class OrgContext:
    org: Organization
    role: str
    actor: Actor

    def may(self, area: Area, needed: Access) -> bool:
        return may(self.role, area, needed)


class ManagementTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User | None, OrgContext] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.startswith("mt-"):
            return None  # not ours: a Clerk bearer token or no header at all
        token = find_management_token(secret.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(
                "Invalid or revoked management token; a token stops working when its creator"
                " is no longer an admin of the organization."
            )
        actor = Actor(user=None, label=f"token {token.prefix}…", ip=client_ip(request._request))
        return token.created_by, OrgContext(org=token.org, role=Role.ADMIN, actor=actor)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The dashboard session (local or Clerk), scoped to the member's current org."""

    def authenticate(self, request: Request) -> tuple[User, OrgContext] | None:
        django_request: HttpRequest = request._request
        user = getattr(django_request, "user", None)
        if not isinstance(user, User) or not user.is_active:
            return None
        self.enforce_csrf(request)
        membership: Membership | None = current_membership(django_request)
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of any organization.")
        actor = Actor.from_request(django_request, user)
        return user, OrgContext(org=membership.org, role=membership.role, actor=actor)


class RoleMatrixPermission(permissions.BasePermission):
    """Let reads through with Access.READ on the view's area, writes with `write_access`."""

    area: ClassVar[Area]
    # Access.OWN for views that check ownership themselves (members' own keys).
    write_access: ClassVar[Access] = Access.WRITE
    message = "Your role may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        context = request.auth
        if not isinstance(context, OrgContext):
            return False
        reading = request.method in permissions.SAFE_METHODS
        if context.may(self.area, Access.READ if reading else self.write_access):
            return True
        verb = "read" if reading else "change"
        self.message = f"The {context.role} role may not {verb} {_area_name(self.area)}."
        return False


def _area_name(area: Area) -> str:
    return area.value.replace("_", " ").replace("pii", "PII")


def role_may(area: Area, write_access: Access = Access.WRITE) -> type[RoleMatrixPermission]:
    """Return the permission class that applies the role matrix's row for `area`."""
    attributes = {"area": area, "write_access": write_access}
    return type(f"RoleMay{area.name.title().replace('_', '')}", (RoleMatrixPermission,), attributes)
