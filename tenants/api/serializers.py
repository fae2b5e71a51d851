"""JSON shapes of the management API; unknown fields are refused, not ignored."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenants.models import RPM_LIMIT_MAX, TPM_LIMIT_MAX, ApiKey, Project, Team

NAME_MAX_LENGTH = 100
UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# What clean_name accepts, for the schema: no control character, something besides spaces.
NAME_PATTERN = r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"

# DRF coerces JSON types (0 -> "0", "yes" -> true, "5" -> 5, 0 -> a UUID); the API
# does not: a value of the wrong JSON type is a 400, as the schema says.
_JSON_TYPES: tuple[
    tuple[type[serializers.Field[Any, Any, Any, Any]], tuple[type, ...], str], ...
] = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.CharField, (str,), "a string"),
    (serializers.UUIDField, (str,), "a string (a UUID)"),
    (serializers.DateTimeField, (str,), "a string (ISO 8601)"),
    (serializers.ListField, (list,), "a list"),
    (serializers.ListSerializer, (list,), "a list"),
    (serializers.DictField, (dict,), "an object"),
)


def _json_type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """Name the JSON type `field` needs when `value` is not one; None when it is fine."""
    if value is None:
        return None  # the field's allow_null decides
    for kind, types, name in _JSON_TYPES:
        if isinstance(field, kind):
            wrong = not isinstance(value, types) or (bool not in types and isinstance(value, bool))
            return f"Expected {name}." if wrong else None
    return None  # nested serializers and our own fields check their input themselves


class StrictSerializer(serializers.Serializer[Any]):
    """Refuse fields the endpoint does not know, and values of the wrong JSON type."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {unknown[0]: ["Unknown field."]}, code="unknown_field"
            )
        for name, field in self.fields.items():
            if name in data and (message := _json_type_error(field, data[name])):
                raise serializers.ValidationError({name: [message]}, code="invalid_type")
        return super().to_internal_value(data)


def clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise serializers.ValidationError("This field may not be blank.", code="blank")
    if any(ord(c) < 32 for c in value):
        raise serializers.ValidationError("Control characters are not allowed.", code="invalid")
    return value


@extend_schema_field({"type": "string", "maxLength": NAME_MAX_LENGTH, "pattern": NAME_PATTERN})
class NameField(serializers.CharField):
    """A name people gave: surrounding spaces dropped, no control characters, not blank."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=NAME_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return clean_name(super().to_internal_value(data))


class IdField(serializers.UUIDField):
    """An object's id as the API writes it (8-4-4-4-12 hex); DRF also took 0, braces and URNs."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not UUID_TEXT.fullmatch(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def rpm_limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=RPM_LIMIT_MAX,
        required=False,
        allow_null=True,
        help_text="Requests per minute; null: no limit.",
    )


def tpm_limit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=TPM_LIMIT_MAX,
        required=False,
        allow_null=True,
        help_text="Tokens per minute; null: no limit.",
    )


class RateLimitsPatchSerializer(StrictSerializer):
    """PATCH a key or a project: what is given changes; null removes the limit."""

    rpm_limit = rpm_limit_field()
    tpm_limit = tpm_limit_field()


class TeamSerializer(serializers.ModelSerializer[Team]):
    class Meta:
        model = Team
        fields = ["id", "name", "created_at"]


class TeamCreateSerializer(StrictSerializer):
    name = NameField()


class ProjectSerializer(serializers.ModelSerializer[Project]):
    team = serializers.UUIDField(source="team_id", allow_null=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "team", "rpm_limit", "tpm_limit", "created_at"]


class ProjectCreateSerializer(StrictSerializer):
    name = NameField()
    team = IdField(required=False, allow_null=True)
    rpm_limit = rpm_limit_field()
    tpm_limit = tpm_limit_field()


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    project_id = serializers.UUIDField(read_only=True)
    user_id = serializers.UUIDField(read_only=True, allow_null=True)
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "project_id",
            "user_id",
            "rpm_limit",
            "tpm_limit",
            "created_at",
            "revoked_at",
            "revoked",
        ]

    def get_revoked(self, key: ApiKey) -> bool:
        return key.revoked_at is not None


class ApiKeyCreateSerializer(StrictSerializer):
    project_id = IdField()
    name = NameField()
    user_id = IdField(required=False, allow_null=True)
    rpm_limit = rpm_limit_field()
    tpm_limit = tpm_limit_field()


class IssuedKeySerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    key = serializers.CharField(help_text="The full key. Shown this once; store it now.")
    prefix = serializers.CharField()
