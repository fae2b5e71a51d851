"""GET /api/v1/requests/: the org's request log, newest first, a page or a streamed export.

One query behind both (observability.request_query): the filter of
CONTRACT.md section 4, newest first, an opaque keyset cursor. `?format=csv`,
`?format=jsonl` or `Accept: text/csv` streams the same filter as a file
(observability.request_export) instead of a JSON page; JSON is the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.pii_policy.models import Action
from observability.models import RequestLog
from observability.request_export import FORMATS, Labels, export_response, wants_export
from observability.request_query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    STATUS_CHOICES,
    after,
    filtered,
    integer,
    newest_first,
    page_of,
    param,
    read_cursor,
    read_filter,
)
from observability.usage_rows import WHERE
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import NO_NUL_PATTERN
from tenants.errors import Invalid
from tenants.roles import Area


class RedactionSerializer(serializers.Serializer[Any]):
    """What the PII policy did in a request: counts of a type, never a value."""

    entity = serializers.CharField(help_text="EMAIL, PERSON, … or a custom pattern's name.")
    action = serializers.ChoiceField(choices=Action.values)
    count = serializers.IntegerField(min_value=1)
    detector = serializers.CharField()
    where = serializers.ChoiceField(choices=WHERE)


class AttemptSerializer(serializers.Serializer[Any]):
    """One deployment tried, in order: who, where, how healthy it looked, what happened."""

    deployment_id = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    outcome = serializers.CharField(help_text='"ok" or an error code (upstream_timeout, http_503…)')
    latency_ms = serializers.IntegerField()
    endpoint = serializers.CharField(
        required=False, help_text='The host that was called, "host[:port]"; never a key.'
    )
    health = serializers.ChoiceField(
        choices=["closed", "half_open", "open"],
        required=False,
        help_text="The circuit breaker's state when the router chose this deployment.",
    )


class RequestLogSerializer(serializers.ModelSerializer[RequestLog]):
    cost_usd = serializers.DecimalField(
        max_digits=18, decimal_places=6, coerce_to_string=True, allow_null=True
    )
    platform_fee_usd = serializers.DecimalField(
        max_digits=18, decimal_places=6, coerce_to_string=True, allow_null=True
    )
    fallbacks = serializers.ListField(child=serializers.CharField(), read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)
    redactions = RedactionSerializer(many=True, read_only=True)
    project_name = serializers.SerializerMethodField()
    key_name = serializers.SerializerMethodField()
    key_prefix = serializers.SerializerMethodField()

    class Meta:
        model = RequestLog
        fields = [
            "request_id", "created_at", "project_id", "project_name", "team_id", "key_id",
            "key_name", "key_prefix", "user_id", "endpoint", "model_requested",
            "model_dispatched", "provider", "upstream_host", "deployment_id", "strategy",
            "routing_version", "task", "stream", "status", "error_type", "error_code",
            "error_provider", "input_tokens", "output_tokens", "cached_input_tokens",
            "reasoning_tokens", "latency_ms", "ttfb_ms", "cost_usd", "platform_fee_usd",
            "fallbacks", "attempts", "client_disconnected", "redactions",
        ]  # fmt: skip

    def _labels(self) -> Labels:
        return cast(Labels, self.context["labels"])

    def get_project_name(self, row: RequestLog) -> str | None:
        return self._labels().project(row.project_id)

    def get_key_name(self, row: RequestLog) -> str | None:
        return self._labels().key(row.key_id)[0]

    def get_key_prefix(self, row: RequestLog) -> str | None:
        return self._labels().key(row.key_id)[1]


class RequestPageSerializer(serializers.Serializer[Any]):
    data = RequestLogSerializer(many=True)  # type: ignore[assignment]  # a field named data
    next_cursor = serializers.CharField(allow_null=True)


class JsonOrExport(BaseContentNegotiation):
    """Always JSON for DRF's own answers (pages, errors); the view streams exports itself.

    DRF's default negotiation answers `?format=csv` with 404 and `Accept: text/csv`
    with 406 because no renderer of ours is CSV; this view reads both itself.
    """

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


F = TypeVar("F", bound=Callable[..., object])


def _negotiated_by(negotiation: type[BaseContentNegotiation]) -> Callable[[F], F]:
    """DRF's content_negotiation_class decorator, which its type stubs lack."""

    def decorate(view: F) -> F:
        setattr(view, "content_negotiation_class", negotiation)  # noqa: B010  # read by api_view
        return view

    return decorate


def _int_parameter(name: str, low: int, high: int, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": low, "maximum": high},
        description=description,
    )


def _datetime_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATETIME, description=description)


def _string_parameter(name: str, longest: int, description: str) -> OpenApiParameter:
    schema = {"type": "string", "minLength": 1, "maxLength": longest, "pattern": NO_NUL_PATTERN}
    return OpenApiParameter(name, schema, description=description)


_EXPORT = OpenApiResponse(OpenApiTypes.STR, description="The filtered log as a file, streamed.")


@extend_schema(
    parameters=[
        _datetime_parameter("from", "ISO 8601 (UTC when no offset); requests at or after"),
        _datetime_parameter("to", "ISO 8601 (UTC when no offset); requests before"),
        _string_parameter("model", 200, "the model alias requested or the model that answered"),
        OpenApiParameter("project_id", OpenApiTypes.UUID, description="one project's requests"),
        OpenApiParameter("key_id", OpenApiTypes.UUID, description="one API key's requests"),
        OpenApiParameter(
            "status",
            {
                "oneOf": [
                    {"type": "integer", "minimum": 100, "maximum": 599},
                    {"type": "string", "enum": list(STATUS_CHOICES)},
                ]
            },
            description="an HTTP status, a class (2xx, 3xx, 4xx, 5xx) or error (400 and up)",
        ),
        _string_parameter(
            "error_type", 64, "the error's type (upstream_error) or code (upstream_timeout)"
        ),
        _int_parameter("limit", 1, MAX_LIMIT, f"page size, default {DEFAULT_LIMIT}"),
        OpenApiParameter(
            "cursor",
            {"type": "string", "pattern": "^([1-9][0-9]{0,18}|c[A-Za-z0-9_-]{4,64})$"},
            description="next_cursor of the previous page (opaque)",
        ),
        OpenApiParameter(
            "format",
            {"type": "string", "enum": ["json", *FORMATS]},
            description="csv or jsonl: stream the whole filtered log as a file instead of a page",
        ),
    ],
    responses={
        (200, "application/json"): RequestPageSerializer,
        (200, "text/csv"): _EXPORT,
        (200, "application/jsonl"): _EXPORT,
    },
)
@api_view(["GET"])
@permission_classes([role_may(Area.REQUESTS)])
@_negotiated_by(JsonOrExport)
def requests_log(request: Request) -> Response | StreamingHttpResponse:
    """List the org's requests, newest first, a page at a time; or stream them all as a file."""
    ctx = cast(OrgContext, request.auth)
    params = cast(Mapping[str, str], request.query_params)
    export_format = wants_export(param(params, "format"), request.headers.get("Accept", ""))
    if export_format is not None and export_format not in FORMATS:
        raise Invalid("format", "'format' must be json, csv or jsonl.")
    wanted = read_filter(params)
    cursor = read_cursor(params)
    if export_format is not None:
        rows = newest_first(after(filtered(ctx.org, wanted), ctx.org, cursor))
        return export_response(ctx.org, rows, export_format)
    limit = integer(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = page_of(ctx.org, wanted, cursor, limit)
    keys = {row.key_id for row in page.rows if row.key_id is not None}
    labels = Labels(ctx.org, keys=keys)
    data = RequestLogSerializer(page.rows, many=True, context={"labels": labels}).data
    return Response({"data": data, "next_cursor": page.next_cursor})
