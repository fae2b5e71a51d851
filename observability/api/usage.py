"""GET /api/v1/usage/: the org's usage over a window of UTC days, grouped (CONTRACT.md section 4).

Served by observability.usage from the daily rollups, never from the request
log. Its own module, apart from the request log's views, so the two evolve
without stepping on each other.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from observability.usage import (
    GROUP_BY,
    MAX_WINDOW_DAYS,
    Names,
    UsageError,
    UsageGroup,
    check_window,
    names_for,
    parse_group_by,
    usage_report,
)
from tenants.api.auth import OrgContext, role_may
from tenants.errors import Invalid
from tenants.roles import Area

DEFAULT_GROUP_BY = "day"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GROUP_BY_PATTERN = r"^({0})(,({0}))*$".format("|".join(GROUP_BY))
# The readable name shown beside an id key, when the report groups by it.
NAME_FIELDS = {"project": "project_name", "key": "key_name", "user": "user_email"}


class UsageFiguresSerializer(serializers.Serializer[Any]):
    requests = serializers.IntegerField(min_value=0)
    # A field named errors shadows Serializer.errors; this serializer only describes output.
    errors = serializers.IntegerField(  # type: ignore[assignment]
        min_value=0, help_text="Requests answered with status >= 400."
    )
    input_tokens = serializers.IntegerField(min_value=0)
    output_tokens = serializers.IntegerField(min_value=0)
    cached_input_tokens = serializers.IntegerField(min_value=0)
    reasoning_tokens = serializers.IntegerField(min_value=0)
    cost_usd = serializers.RegexField(
        r"^[0-9]+\.[0-9]{6}$", help_text='USD as a decimal string, six places ("0.012500").'
    )
    latency_ms_p50 = serializers.IntegerField(
        allow_null=True, help_text="Median latency in ms (within about 10%); null: no requests."
    )
    latency_ms_p95 = serializers.IntegerField(allow_null=True)


class UsageRowSerializer(UsageFiguresSerializer):
    """A group's figures; only the keys named in group_by (and their names) are present."""

    day = serializers.DateField(required=False, help_text="UTC day (group_by=day).")
    model = serializers.CharField(
        required=False, allow_null=True, help_text="The model that answered, else the one asked."
    )
    provider = serializers.CharField(required=False, allow_null=True)
    project = serializers.UUIDField(required=False, allow_null=True, help_text="Project id.")
    project_name = serializers.CharField(
        required=False, allow_null=True, help_text="With project: its name; null once deleted."
    )
    key = serializers.UUIDField(required=False, allow_null=True, help_text="API key id.")
    key_name = serializers.CharField(
        required=False, allow_null=True, help_text='With key: "name (prefix…)"; null once deleted.'
    )
    user = serializers.UUIDField(required=False, allow_null=True, help_text="The key's owner.")
    user_email = serializers.CharField(
        required=False, allow_null=True, help_text="With user: the member's email."
    )
    status = serializers.IntegerField(required=False, help_text="HTTP status answered.")
    task = serializers.CharField(required=False, allow_null=True, help_text="The task label.")


class UsageReportSerializer(serializers.Serializer[Any]):
    from_ = serializers.DateField()
    to = serializers.DateField(help_text="Exclusive.")
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=GROUP_BY))
    rows = UsageRowSerializer(many=True)
    totals = UsageFiguresSerializer()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # a Python keyword, the API's name
        return cast(dict[str, Any], fields)


def _date(request: Request, name: str) -> date:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        raise Invalid(name, f"'{name}' is required: an ISO date (YYYY-MM-DD, UTC).")
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as e:
        raise Invalid(name, f"'{name}' must be an ISO date, YYYY-MM-DD (UTC).") from e


def _row(group: UsageGroup, names: Names) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in group.keys.items():
        row[name] = value.isoformat() if isinstance(value, date) else value
        if name in NAME_FIELDS:
            row[NAME_FIELDS[name]] = names.of(name, value)
    row.update(group.figures())
    return row


@extend_schema(
    parameters=[
        OpenApiParameter(
            "from",
            {"type": "string", "format": "date"},
            required=True,
            description="First UTC day of the window (YYYY-MM-DD), included.",
        ),
        OpenApiParameter(
            "to",
            {"type": "string", "format": "date"},
            required=True,
            description=f"UTC day after the window, excluded; at most {MAX_WINDOW_DAYS} days"
            " after 'from'.",
        ),
        OpenApiParameter(
            "group_by",
            {"type": "string", "pattern": _GROUP_BY_PATTERN},
            description=f"One or more of {', '.join(GROUP_BY)}, comma-separated, each once;"
            f" default {DEFAULT_GROUP_BY}. Rows are sorted by these keys in this order,"
            " ascending, a null key last.",
        ),
    ],
    responses=UsageReportSerializer,
    description="Requests, errors, tokens, cost and latency percentiles of the organization,"
    " per group, with totals over the window; read from per-day rollups.",
)
@api_view(["GET"])
@permission_classes([role_may(Area.REQUESTS)])
def usage(request: Request) -> Response:
    ctx = cast(OrgContext, request.auth)
    since, until = _date(request, "from"), _date(request, "to")
    try:
        check_window(since, until)
        group_by = parse_group_by(request.query_params.get("group_by", DEFAULT_GROUP_BY))
    except UsageError as e:
        raise Invalid(e.param, e.message) from e
    report = usage_report(ctx.org, since, until, group_by)
    names = names_for(ctx.org, report.rows)
    return Response(
        {
            "from": since.isoformat(),
            "to": until.isoformat(),
            "group_by": list(report.group_by),
            "rows": [_row(group, names) for group in report.rows],
            "totals": report.totals.figures(),
        }
    )
