"""GET /api/v1/requests/: the org's request log, newest first, with cursor pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from observability.drain import WHERE
from observability.models import RequestLog
from pii_policy.models import Action
from tenants.api.auth import OrgContext, role_may
from tenants.errors import Invalid
from tenants.roles import Area
from tenants.scoping import for_org

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class RedactionSerializer(serializers.Serializer[Any]):
    """What the PII policy did in a request: counts of a type, never a value."""

    entity = serializers.CharField(help_text="EMAIL, PERSON, … or a custom pattern's name.")
    action = serializers.ChoiceField(choices=Action.values)
    count = serializers.IntegerField(min_value=1)
    detector = serializers.CharField()
    where = serializers.ChoiceField(choices=WHERE)


class RequestLogSerializer(serializers.ModelSerializer[RequestLog]):
    cost_usd = serializers.DecimalField(
        max_digits=18, decimal_places=6, coerce_to_string=True, allow_null=True
    )
    fallbacks = serializers.ListField(child=serializers.CharField(), read_only=True)
    redactions = RedactionSerializer(many=True, read_only=True)

    class Meta:
        model = RequestLog
        fields = [
            "request_id", "created_at", "project_id", "team_id", "key_id", "user_id",
            "endpoint", "model_requested", "model_dispatched", "provider", "deployment_id",
            "strategy", "stream", "status", "error_type", "input_tokens", "output_tokens",
            "cached_input_tokens", "reasoning_tokens", "latency_ms", "ttfb_ms", "cost_usd",
            "fallbacks", "attempts", "client_disconnected", "redactions",
        ]  # fmt: skip


class RequestPageSerializer(serializers.Serializer[Any]):
    data = RequestLogSerializer(many=True)  # type: ignore[assignment]  # a field named data
    next_cursor = serializers.CharField(allow_null=True)


def _datetime(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as e:
        raise Invalid(name, f"'{name}' must be an ISO 8601 date-time.") from e


def _int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Invalid(name, f"'{name}' must be an integer from {low} to {high}.")
    return int(raw)


@extend_schema(
    parameters=[
        OpenApiParameter("from", str, description="ISO 8601; requests at or after"),
        OpenApiParameter("to", str, description="ISO 8601; requests before"),
        OpenApiParameter("model", str, description="the alias requested"),
        OpenApiParameter("status", int),
        OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}"),
        OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
    ],
    responses=RequestPageSerializer,
)
@api_view(["GET"])
@permission_classes([role_may(Area.REQUESTS)])
def requests_log(request: Request) -> Response:
    ctx = cast(OrgContext, request.auth)
    rows = for_org(RequestLog.objects.all(), ctx.org)
    if (since := _datetime(request, "from")) is not None:
        rows = rows.filter(created_at__gte=since)
    if (until := _datetime(request, "to")) is not None:
        rows = rows.filter(created_at__lt=until)
    if model := request.query_params.get("model"):
        rows = rows.filter(model_requested=model)
    if (status := _int(request, "status", None, 100, 599)) is not None:
        rows = rows.filter(status=status)
    if (cursor := _int(request, "cursor", None, 1, 2**63 - 1)) is not None:
        rows = rows.filter(id__lt=cursor)
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    page = list(rows.order_by("-id")[: limit + 1])
    next_cursor = str(page[limit - 1].id) if len(page) > limit else None
    data = RequestLogSerializer(page[:limit], many=True).data
    return Response({"data": data, "next_cursor": next_cursor})
