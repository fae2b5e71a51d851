"""Management API endpoints for teams, projects and API keys (CONTRACT.md section 4)."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from tenants import actions, rate_limits
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import errors
from tenants.api.serializers import (
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    IssuedKeySerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    RateLimitsPatchSerializer,
    TeamCreateSerializer,
    TeamSerializer,
)
from tenants.errors import NotFound
from tenants.models import ApiKey, Project, Team, User
from tenants.roles import Access, Area, may_change_key
from tenants.scoping import for_org, get_for_org


def _context(request: Request) -> OrgContext:
    return cast(OrgContext, request.auth)


def _limits(
    data: dict[str, Any], current: ApiKey | Project | None = None
) -> rate_limits.RateLimits:
    """The limits a body asks for: given fields replace, null clears, absent ones stay."""
    return rate_limits.RateLimits(
        rpm_limit=data["rpm_limit"] if "rpm_limit" in data else getattr(current, "rpm_limit", None),
        tpm_limit=data["tpm_limit"] if "tpm_limit" in data else getattr(current, "tpm_limit", None),
    )


@extend_schema(methods=["GET"], responses=TeamSerializer(many=True))
@extend_schema(
    methods=["POST"],
    request=TeamCreateSerializer,
    responses={201: TeamSerializer, **errors(409)},
)
@api_view(["GET", "POST"])
@permission_classes([role_may(Area.PROJECTS)])
def teams(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "GET":
        rows = for_org(Team.objects.all(), ctx.org).order_by("name")
        return Response(TeamSerializer(rows, many=True).data)
    body = TeamCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    team = actions.create_team(ctx.org, body.validated_data["name"], ctx.actor)
    return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses=ProjectSerializer(many=True))
@extend_schema(
    methods=["POST"],
    request=ProjectCreateSerializer,
    responses={201: ProjectSerializer, **errors(404, 409)},
    description="404 when team is not a team of this organization; 409 when the name is taken.",
)
@api_view(["GET", "POST"])
@permission_classes([role_may(Area.PROJECTS)])
def projects(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "GET":
        rows = for_org(Project.objects.all(), ctx.org).order_by("name")
        return Response(ProjectSerializer(rows, many=True).data)
    body = ProjectCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    team_id = body.validated_data.get("team")
    team = get_for_org(Team.objects.all(), ctx.org, id=team_id) if team_id else None
    project = actions.create_project(
        ctx.org,
        body.validated_data["name"],
        ctx.actor,
        team=team,
        limits=_limits(body.validated_data),
    )
    return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses=ProjectSerializer)
@extend_schema(
    methods=["PATCH"],
    request=RateLimitsPatchSerializer,
    responses=ProjectSerializer,
    description="Set the requests and tokens per minute the project's keys share;"
    " null removes a limit, an absent field is left as it is.",
)
@api_view(["GET", "PATCH"])
@permission_classes([role_may(Area.PROJECTS)])
def project_detail(request: Request, project_id: str) -> Response:
    ctx = _context(request)
    project = get_for_org(Project.objects.all(), ctx.org, id=project_id)
    if request.method == "PATCH":
        body = RateLimitsPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = rate_limits.set_project_rate_limits(
            project, _limits(body.validated_data, project), ctx.actor
        )
    return Response(ProjectSerializer(project).data)


@extend_schema(methods=["GET"], responses=ApiKeySerializer(many=True))
@extend_schema(
    methods=["POST"],
    request=ApiKeyCreateSerializer,
    responses={201: IssuedKeySerializer, **errors(404)},
    description="404 when project_id is not a project of this organization, or user_id not"
    " one of its members.",
)
@api_view(["GET", "POST"])
@permission_classes([role_may(Area.KEYS, write_access=Access.OWN)])
def keys(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "GET":
        rows = for_org(ApiKey.objects.all(), ctx.org).order_by("-created_at")
        return Response(ApiKeySerializer(rows, many=True).data)
    body = ApiKeyCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    project = get_for_org(Project.objects.select_related("org"), ctx.org, id=data["project_id"])
    owner = None
    if not ctx.may(Area.KEYS, Access.WRITE):
        # A member's keys are their own, as in the dashboard.
        owner = ctx.actor.user
        if owner is None or data.get("user_id") not in (None, owner.id):
            raise exceptions.PermissionDenied(
                f"The {ctx.role} role may only create keys of its own."
            )
    elif data.get("user_id"):
        owner = User.objects.filter(id=data["user_id"], memberships__org=ctx.org).first()
        if owner is None:
            raise NotFound("user_id", "That user is not a member of this organization.")
    issued = actions.issue_api_key(
        project, data["name"], ctx.actor, user=owner, limits=_limits(data)
    )
    payload = {"id": issued.id, "key": issued.secret, "prefix": issued.prefix}
    return Response(IssuedKeySerializer(payload).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses=ApiKeySerializer)
@extend_schema(
    methods=["PATCH"],
    request=RateLimitsPatchSerializer,
    responses={200: ApiKeySerializer, **errors(409)},
    description="Set the key's own requests and tokens per minute (its project's limits apply"
    " too); null removes a limit, an absent field is left as it is. 409 for a revoked key.",
)
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PATCH", "DELETE"])
@permission_classes([role_may(Area.KEYS, write_access=Access.OWN)])
def key_detail(request: Request, key_id: str) -> Response:
    ctx = _context(request)
    key = get_for_org(ApiKey.objects.select_related("org"), ctx.org, id=key_id)
    if request.method == "GET":
        return Response(ApiKeySerializer(key).data)
    if request.method == "PATCH":
        if not ctx.may(Area.KEYS, Access.WRITE):  # limits are the admin's call
            raise exceptions.PermissionDenied(f"The {ctx.role} role may not change key limits.")
        body = RateLimitsPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = rate_limits.set_key_rate_limits(key, _limits(body.validated_data, key), ctx.actor)
        return Response(ApiKeySerializer(key).data)
    user = ctx.actor.user
    if not may_change_key(ctx.role, user.id if user else None, key.user_id):
        raise exceptions.PermissionDenied(f"The {ctx.role} role may only revoke keys of its own.")
    actions.revoke_api_key(key, ctx.actor)
    return Response(status=status.HTTP_204_NO_CONTENT)
