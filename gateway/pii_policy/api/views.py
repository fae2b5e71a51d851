"""Management API endpoints for the PII policy of the org and of a project (CONTRACT.md §4)."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.pii_policy import actions
from gateway.pii_policy.api.serializers import PiiPolicyInSerializer, PiiPolicySerializer
from gateway.pii_policy.models import PiiPolicy
from gateway.pii_policy.specs import PolicySpec
from tenants.api.auth import OrgContext, role_may
from tenants.models import Project
from tenants.roles import Area
from tenants.scoping import get_for_org


def _context(request: Request) -> OrgContext:
    return cast(OrgContext, request.auth)


def _shown(spec: PolicySpec, code: int = status.HTTP_200_OK) -> Response:
    return Response(PiiPolicySerializer(spec.entry()).data, status=code)


@extend_schema(methods=["GET"], responses=PiiPolicySerializer)
@extend_schema(
    methods=["PUT"],
    request=PiiPolicyInSerializer,
    responses=PiiPolicySerializer,
    description="Replace the org's PII policy wholly; the proxy applies it within a second."
    " 400 names the field at fault: an unknown entity type or action, a pattern name that is"
    " not UPPER_SNAKE_CASE or is a built-in type, a regex RE2 cannot compile.",
)
@api_view(["GET", "PUT"])
@permission_classes([role_may(Area.PII_POLICY)])
def org_policy(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "PUT":
        body = PiiPolicyInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy = actions.set_org_policy(ctx.org, body.spec(), ctx.actor)
        return _shown(PolicySpec.of(policy))
    stored = PiiPolicy.objects.filter(org=ctx.org, project=None).first()
    return _shown(PolicySpec.of(stored))


@extend_schema(
    methods=["GET"],
    responses=PiiPolicySerializer,
    description="The project's own policy; 404 (code no_override) when it follows the org's.",
)
@extend_schema(
    methods=["PUT"],
    request=PiiPolicyInSerializer,
    responses={200: PiiPolicySerializer, 201: PiiPolicySerializer},
    description="Give the project its own policy, which replaces the org's wholly for the"
    " project's keys; validated as the org's is.",
)
@extend_schema(
    methods=["DELETE"],
    responses={204: None},
    description="Drop the project's own policy; the org's applies again.",
)
@api_view(["GET", "PUT", "DELETE"])
@permission_classes([role_may(Area.PII_POLICY)])
def project_policy(request: Request, project_id: str) -> Response:
    ctx = _context(request)
    # Another org's project reads exactly like one that does not exist.
    project = get_for_org(Project.objects.all(), ctx.org, id=project_id)
    if request.method == "PUT":
        body = PiiPolicyInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy, created = actions.set_project_policy(project, body.spec(), ctx.actor)
        return _shown(PolicySpec.of(policy), status.HTTP_201_CREATED if created else 200)
    if request.method == "DELETE":
        actions.delete_project_policy(project, ctx.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
    stored = PiiPolicy.objects.filter(org=ctx.org, project=project).first()
    if stored is None:
        raise exceptions.NotFound(
            "This project has no PII policy of its own; the organization's applies.",
            code="no_override",
        )
    return _shown(PolicySpec.of(stored))
