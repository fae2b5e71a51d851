"""GET /api/v1/traces/{request_id}/: one request's decrypted trace (CONTRACT.md section 4).

Readable by whoever may read the request log; every read is audited
(observability.trace_reader). 404 with code trace_not_found when no trace was
kept (observability off, expired, shredded), trace_unavailable when it is kept
but its master key is gone.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from observability.trace_reader import read_trace
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import ErrorSerializer
from tenants.roles import Area


@extend_schema_field(OpenApiTypes.ANY)
class AnyJsonField(serializers.JSONField):
    """Any JSON value, as it crossed the gateway."""


class TraceSerializer(serializers.Serializer[Any]):
    request_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    request = AnyJsonField(help_text="The JSON body sent to the provider, after PII redaction.")
    response = AnyJsonField(
        help_text="The provider's JSON answer, or its stream assembled into one, after redaction."
    )
    truncated = serializers.BooleanField(
        help_text="true when a half passed the size cap (256 KiB of JSON) and was cut."
    )


@extend_schema(
    responses={
        200: TraceSerializer,
        404: OpenApiResponse(
            ErrorSerializer,
            description="code trace_not_found: no trace was kept (observability off, expired,"
            " shredded); code trace_unavailable: kept, but its master key is not configured.",
        ),
    },
    description="Decrypt one request's trace; each read is recorded in the audit log.",
)
@api_view(["GET"])
@permission_classes([role_may(Area.REQUESTS)])
def trace_detail(request: Request, request_id: str) -> Response:
    ctx = cast(OrgContext, request.auth)
    trace = read_trace(ctx.org, request_id, ctx.actor)
    body = {
        "request_id": trace.request_id,
        "created_at": trace.created_at,
        "request": trace.request,
        "response": trace.response,
        "truncated": trace.truncated,
    }
    return Response(TraceSerializer(body).data)
