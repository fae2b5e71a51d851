"""The OpenAPI schema of the management API: auth schemes and every error an operation can give.

Each operation lists, in the error shape of tenants.errors, the failures that
can reach it: 401 and 403 always (no or a bad token; a role that may not do
this), 400 when it reads a body or query parameters, 404 when a path names an
object, 413 and 415 when it reads a body (too large; not JSON). What only some
operations can give (409, a 404 for an id in the body) they add themselves
with `errors(...)` in `extend_schema(responses=...)`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from tenants.errors import ERROR_TYPES

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
NO_NUL_PATTERN = r"^[^\x00]*$"
# gateway.specs.clean_alias, less what a pattern cannot say (no empty, "." or ".." part).
ALIAS_PATTERN = r"^[A-Za-z0-9_:-][A-Za-z0-9._:-]*(/[A-Za-z0-9_:-][A-Za-z0-9._:-]*)*$"
ALIAS_MAX_LENGTH = 100

ERROR_DESCRIPTIONS = {
    400: "Bad request: `param` names the field or query parameter at fault.",
    401: "No credentials, or an unknown or revoked management token.",
    403: "Authenticated, but this role may not do this.",
    404: "No such object in this organization (another organization's objects too).",
    409: "Conflicts with the current state (named in the message).",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not JSON.",
}


ERROR_TYPE_CHOICES = sorted({*ERROR_TYPES.values(), "api_error"})


class ErrorDetailSerializer(serializers.Serializer[Any]):
    message = serializers.CharField(help_text="For people; do not parse.")
    type = serializers.ChoiceField(choices=ERROR_TYPE_CHOICES)
    code = serializers.CharField(help_text='Stable, for programs: "not_found", "blank", …')
    param = serializers.CharField(
        allow_null=True, help_text='The field or parameter at fault, e.g. "deployments.0.model".'
    )


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error the API answers: {"error": {"message", "type", "code", "param"}}."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for `extend_schema(responses=...)`, beyond the ones every operation has."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


def _refuse_nul(field: dict[str, Any]) -> None:
    """Say what DRF's CharField does anyway: a string may not hold U+0000."""
    if field.get("type") == "string" and not {"pattern", "enum", "format"} & set(field):
        field["pattern"] = NO_NUL_PATTERN


def _path_parameter_schema(name: str) -> dict[str, Any] | None:
    """Path parameters as tight as the lookups behind them: ids are UUIDs, aliases are aliases."""
    if name == "request_id":  # the proxy's x-request-id: 16 random bytes in hex, not a UUID
        return {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    if name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    if name == "model":
        return {"type": "string", "pattern": ALIAS_PATTERN, "maxLength": ALIAS_MAX_LENGTH}
    return None


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the errors that every operation of its kind can give."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        for status, response in errors(*self._error_statuses()).items():
            bodies.setdefault(
                str(status), self._get_response_for_code(response, str(status), direction=direction)
            )
        return dict(sorted(bodies.items()))

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") == "path":
                tight = _path_parameter_schema(parameter["name"])
                if tight is not None:
                    parameter["schema"] = tight
        return parameters

    def _error_statuses(self) -> list[int]:
        statuses = [401, 403]
        reads_body = self.method in BODY_METHODS
        takes_query = any(
            p.get("in") == "query" for p in self._get_parameters() if isinstance(p, dict)
        )
        if reads_body or takes_query:
            statuses.append(400)
        if "{" in self.path:
            statuses.append(404)
        if reads_body:
            statuses += [413, 415]
        return statuses


class ManagementTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.auth.ManagementTokenAuthentication"
    name = "managementToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An org's management token, mt-… (Authorization: Bearer mt-…).",
        }


class DashboardSessionScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.auth.SessionAuthentication"
    name = "dashboardSession"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The dashboard's session; unsafe methods need the CSRF token too.",
        }


class StrictSerializerScheme(OpenApiSerializerExtension):
    """A StrictSerializer refuses unknown fields, so its schema says additionalProperties: false."""

    target_class = "tenants.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        for field in properties.values():
            _refuse_nul(field)
        for name, field in self.target.fields.items():
            if isinstance(field, serializers.ListSerializer) and name in properties:
                # drf-spectacular leaves out a ListSerializer's bounds; the API checks them.
                if not field.allow_empty:
                    properties[name]["minItems"] = 1
                if (most := getattr(field, "max_length", None)) is not None:
                    properties[name]["maxItems"] = most
        # Rules between fields that the fields alone cannot say (e.g. BudgetCreateSerializer).
        schema.update(getattr(self.target, "schema_constraints", {}))
        return schema
