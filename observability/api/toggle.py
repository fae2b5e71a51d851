"""GET/PUT /api/v1/observability/ and the project override (CONTRACT.md section 4).

The toggle of section 6: on, the proxy keeps each request's payloads as an
encrypted trace for the retention period; off (the default), payloads never
leave its memory. A project's override wins over the org's toggle; DELETE
drops it. Every change is audited and reaches every proxy within a second
(observability.actions).
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from observability import actions
from tenants.api.auth import OrgContext, role_may
from tenants.api.serializers import StrictSerializer
from tenants.models import Organization, Project
from tenants.roles import Area
from tenants.scoping import get_for_org

_ENABLED_HELP = (
    "true: the proxy keeps each request's payloads (after PII redaction) encrypted for the"
    " retention period; false: payloads are processed in memory only and never stored."
)


class ObservabilityInSerializer(StrictSerializer):
    """PUT: exactly a JSON boolean; "true", 1 or null are refused."""

    enabled = serializers.BooleanField(help_text=_ENABLED_HELP)


class ObservabilitySerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField(help_text=_ENABLED_HELP)


class ProjectObservabilitySerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField(
        help_text="Whether the project's requests keep traces: its override, else the org's."
    )
    overridden = serializers.BooleanField(
        help_text="true: the project has its own setting; false: it follows the org's."
    )


def _context(request: Request) -> OrgContext:
    return cast(OrgContext, request.auth)


def _enabled(body: ObservabilityInSerializer) -> bool:
    body.is_valid(raise_exception=True)
    return bool(body.validated_data["enabled"])


@extend_schema(methods=["GET"], responses=ObservabilitySerializer)
@extend_schema(
    methods=["PUT"],
    request=ObservabilityInSerializer,
    responses=ObservabilitySerializer,
    description="Turn observability on or off for the org; projects with an override keep"
    " theirs. Audited; every proxy follows within a second.",
)
@api_view(["GET", "PUT"])
@permission_classes([role_may(Area.OBSERVABILITY)])
def org_observability(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "PUT":
        enabled = _enabled(ObservabilityInSerializer(data=request.data))
        actions.set_org_observability(ctx.org, enabled, ctx.actor)
        return Response({"enabled": enabled})
    current = Organization.objects.values_list("observability_enabled", flat=True).get(
        id=ctx.org.id
    )
    return Response({"enabled": current})


@extend_schema(methods=["GET"], responses=ProjectObservabilitySerializer)
@extend_schema(
    methods=["PUT"],
    request=ObservabilityInSerializer,
    responses=ProjectObservabilitySerializer,
    description="Give the project its own setting, which wins over the org's.",
)
@extend_schema(
    methods=["DELETE"],
    responses={204: None},
    description="Drop the project's own setting; it follows the org's again.",
)
@api_view(["GET", "PUT", "DELETE"])
@permission_classes([role_may(Area.OBSERVABILITY)])
def project_observability(request: Request, project_id: str) -> Response:
    ctx = _context(request)
    # Another org's project reads exactly like one that does not exist.
    project = get_for_org(Project.objects.all(), ctx.org, id=project_id)
    if request.method == "PUT":
        enabled = _enabled(ObservabilityInSerializer(data=request.data))
        actions.set_project_observability(project, enabled, ctx.actor)
    elif request.method == "DELETE":
        actions.clear_project_observability(project, ctx.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
    state = actions.project_observability(project)
    return Response({"enabled": state.enabled, "overridden": state.overridden})
