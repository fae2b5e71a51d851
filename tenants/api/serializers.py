"""JSON shapes of the management API; unknown fields are refused, not ignored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.models import RPM_LIMIT_MAX, TPM_LIMIT_MAX, ApiKey, Project, Team


class StrictSerializer(serializers.Serializer[Any]):
    """Refuse fields the endpoint does not know: a typo must not pass silently."""

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
        return super().to_internal_value(data)


def clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise serializers.ValidationError("This field may not be blank.", code="blank")
    if any(ord(c) < 32 for c in value):
        raise serializers.ValidationError("Control characters are not allowed.", code="invalid")
    return value


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
    name = serializers.CharField(max_length=100)

    def validate_name(self, value: str) -> str:
        return clean_name(value)


class ProjectSerializer(serializers.ModelSerializer[Project]):
    team = serializers.UUIDField(source="team_id", allow_null=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "team", "rpm_limit", "tpm_limit", "created_at"]


class ProjectCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    team = serializers.UUIDField(required=False, allow_null=True)
    rpm_limit = rpm_limit_field()
    tpm_limit = tpm_limit_field()

    def validate_name(self, value: str) -> str:
        return clean_name(value)


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
    project_id = serializers.UUIDField()
    name = serializers.CharField(max_length=100)
    user_id = serializers.UUIDField(required=False, allow_null=True)
    rpm_limit = rpm_limit_field()
    tpm_limit = tpm_limit_field()

    def validate_name(self, value: str) -> str:
        return clean_name(value)


class IssuedKeySerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    key = serializers.CharField(help_text="The full key. Shown this once; store it now.")
    prefix = serializers.CharField()
