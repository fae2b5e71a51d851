"""GET /api/v1/requests/: the org's request log, newest first, with cursor pagination."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.pii_policy.models import Action
from observability.models import RequestLog
from observability.usage_rows import WHERE
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import NO_NUL_PATTERN
from tenants.errors import Invalid
from tenants.roles import Area
from tenants.scoping import for_org

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR = 2**63 - 1  # a bigint id
_DIGITS = re.compile(r"[0-9]{1,19}")


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
            "strategy", "stream", "status", "error_type", "error_code", "input_tokens",
            "output_tokens",
            "cached_input_tokens", "reasoning_tokens", "latency_ms", "ttfb_ms", "cost_usd",
            "fallbacks", "attempts", "client_disconnected", "redactions",
        ]  # fmt: skip


class RequestPageSerializer(serializers.Serializer[Any]):
    data = RequestLogSerializer(many=True)  # type: ignore[assignment]  # a field named data
    next_cursor = serializers.CharField(allow_null=True)


def _param(request: Request, name: str) -> str | None:
    """The query parameter `name`, or None when absent; empty or holding NUL is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw:
        raise Invalid(name, f"'{name}' may not be empty; leave it out instead.")
    if "\x00" in raw:  # PostgreSQL cannot even compare with it
        raise Invalid(name, f"'{name}' may not contain NUL characters.")
    return raw


def _datetime(request: Request, name: str) -> datetime | None:
    raw = _param(request, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as e:
        raise Invalid(name, f"'{name}' must be an ISO 8601 date-time.") from e
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # the API's dates are UTC (CONTRACT.md section 4)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 lies before the first instant PostgreSQL and Python can hold.
        return (
            datetime.min.replace(tzinfo=UTC)
            if moment.year == 1
            else datetime.max.replace(tzinfo=UTC)
        )


def _int(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = _param(request, name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also takes "²" (int() then fails) and "٣" (int() reads 3).
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise Invalid(name, f"'{name}' must be an integer from {low} to {high}.")
    return int(raw)


def _int_parameter(name: str, low: int, high: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": low, "maximum": high},
        description=description,
    )


def _datetime_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATETIME, description=description)


@extend_schema(
    parameters=[
        _datetime_parameter("from", "ISO 8601 (UTC when no offset); requests at or after"),
        _datetime_parameter("to", "ISO 8601 (UTC when no offset); requests before"),
        OpenApiParameter(
            "model",
            {"type": "string", "minLength": 1, "pattern": NO_NUL_PATTERN},
            description="the alias requested",
        ),
        _int_parameter("status", 100, 599, "HTTP status of the answer"),
        _int_parameter("limit", 1, MAX_LIMIT, f"page size, default {DEFAULT_LIMIT}"),
        _int_parameter("cursor", 1, MAX_CURSOR, "next_cursor of the previous page"),
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
    if model := _param(request, "model"):
        rows = rows.filter(model_requested=model)
    if (status := _int(request, "status", None, 100, 599)) is not None:
        rows = rows.filter(status=status)
    if (cursor := _int(request, "cursor", None, 1, MAX_CURSOR)) is not None:
        rows = rows.filter(id__lt=cursor)
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    page = list(rows.order_by("-id")[: limit + 1])
    next_cursor = str(page[limit - 1].id) if len(page) > limit else None
    data = RequestLogSerializer(page[:limit], many=True).data
    return Response({"data": data, "next_cursor": next_cursor})
