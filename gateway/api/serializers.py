"""JSON shapes of routes and provider keys (CONTRACT.md section 4); unknown fields are refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from gateway import models as m
from gateway.models import Deployment, ProviderKey, Route, Strategy
from gateway.shared.providers_catalog import PROVIDER_CHOICES
from gateway.specs import DeploymentSpec, PriceSpec, RouteSpec, parse_price
from tenants.api.serializers import IdField, StrictSerializer

# What check_deployment and clean_api_key accept, for the schema (they run on the server too).
# A model name goes back in the x-selixes-model header: printable ASCII, no spaces.
MODEL_NAME_PATTERN = r"^[!-~]+$"
API_VERSION_PATTERN = r"^[A-Za-z0-9._-]{1,40}$"
API_BASE_PATTERN = r"^https?://[^\x00-\x20]+$"
API_KEY_PATTERN = r"^\s*[!-~]{8,}\s*$"


@extend_schema_field(
    # What parse_price takes: at most 100000 (PRICE_MAX), six decimal places at most.
    {
        "type": "string",
        "pattern": r"^([0-9]{1,5}(\.[0-9]{1,6})?|0?100000(\.0{1,6})?)$",
        "example": "2.50",
    }
)
class PriceField(serializers.Field[Decimal, str, str, Any]):
    """USD per million tokens as a decimal string; a JSON number is refused (floats are inexact)."""

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_price(data)
        except ValueError as e:
            raise serializers.ValidationError(str(e), code="invalid_price") from e

    def to_representation(self, value: Decimal) -> str:
        return str(value)


class PriceSerializer(StrictSerializer):
    """USD per million tokens; overrides the shipped price list (self-hosted models)."""

    input_per_mtok = PriceField(help_text='USD per million input tokens, e.g. "2.50".')
    output_per_mtok = PriceField(help_text='USD per million output tokens, e.g. "10.00".')


class DeploymentInSerializer(StrictSerializer):
    """One place the alias can be served from; what is left out takes its default."""

    provider = serializers.ChoiceField(choices=PROVIDER_CHOICES)
    model = serializers.CharField(
        max_length=200,
        validators=[
            RegexValidator(
                MODEL_NAME_PATTERN,
                "The provider's model name is printable ASCII without spaces.",
            )
        ],
        help_text="The provider's model name.",
    )
    api_base = serializers.CharField(
        max_length=m.API_BASE_MAX_LENGTH,
        required=False,
        allow_null=True,
        default=None,
        validators=[RegexValidator(API_BASE_PATTERN)],
        help_text="http(s) URL; under the default policy it may not reach private addresses.",
    )
    api_version = serializers.CharField(
        max_length=40,
        required=False,
        allow_null=True,
        default=None,
        validators=[RegexValidator(API_VERSION_PATTERN)],
        help_text="Azure only.",
    )
    provider_key_id = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Omit to use the platform's key for the provider.",
    )
    weight = serializers.IntegerField(
        min_value=m.WEIGHT_MIN, max_value=m.WEIGHT_MAX, required=False, default=1
    )
    quality = serializers.IntegerField(
        min_value=m.QUALITY_MIN, max_value=m.QUALITY_MAX, required=False, allow_null=True
    )
    price = PriceSerializer(required=False, allow_null=True, default=None)
    timeout_s = serializers.FloatField(
        min_value=m.TIMEOUT_MIN_S, max_value=m.TIMEOUT_MAX_S, required=False, default=600.0
    )
    connect_timeout_s = serializers.FloatField(
        min_value=m.CONNECT_TIMEOUT_MIN_S,
        max_value=m.CONNECT_TIMEOUT_MAX_S,
        required=False,
        default=10.0,
    )
    health_check = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Active health pings (a one-token call every half minute or so)."
        " Off by default: each ping costs a token or so on the provider's bill.",
    )

    @staticmethod
    def spec(data: dict[str, Any]) -> DeploymentSpec:
        price = data.get("price")
        return DeploymentSpec(
            provider=data["provider"],
            model=data["model"],
            api_base=data.get("api_base"),
            api_version=data.get("api_version"),
            provider_key_id=data.get("provider_key_id"),
            weight=data.get("weight", 1),
            quality=data.get("quality"),
            price=PriceSpec(price["input_per_mtok"], price["output_per_mtok"]) if price else None,
            timeout_s=data.get("timeout_s", 600.0),
            connect_timeout_s=data.get("connect_timeout_s", 10.0),
            health_check=data.get("health_check", False),
        )


def _first_error(detail: Any, path: str) -> tuple[str, Any]:
    """Find the first real error in DRF's nested detail; its path names list items by index."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if value:
                name = "" if key == "non_field_errors" else str(key)
                return _first_error(value, f"{path}.{name}" if name else path)
    if isinstance(detail, list):
        if detail and isinstance(detail[0], ErrorDetail | str):
            return path, detail[0]
        for index, item in enumerate(detail):
            if item:
                return _first_error(item, f"{path}.{index}")
    return path, detail


class RouteInSerializer(StrictSerializer):
    """PUT /api/v1/routes/{model}/: the whole route; what is not given is gone."""

    strategy = serializers.ChoiceField(choices=Strategy.choices)
    min_quality = serializers.IntegerField(
        min_value=m.QUALITY_MIN, max_value=m.QUALITY_MAX, required=False, allow_null=True
    )
    max_attempts = serializers.IntegerField(
        min_value=m.MAX_ATTEMPTS_MIN,
        max_value=m.MAX_ATTEMPTS_MAX,
        required=False,
        allow_null=True,
        help_text="Failover: at most this many attempts in all. Omit: each deployment once.",
    )
    deadline_s = serializers.FloatField(
        min_value=m.DEADLINE_MIN_S,
        max_value=m.DEADLINE_MAX_S,
        required=False,
        allow_null=True,
        help_text="Failover: no new attempt starts this many seconds after the request arrived.",
    )
    deployments: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=DeploymentInSerializer(),
        allow_empty=False,
        max_length=m.MAX_DEPLOYMENTS,
        help_text="In priority order.",
    )

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as e:
            # Errors inside the deployments list arrive as [{}, {...}]; name the item.
            detail = e.detail
            if not isinstance(detail, dict) or not isinstance(detail.get("deployments"), list):
                raise
            named: dict[str, Any] = {}
            for key, value in detail.items():  # keep the fields' order: the first error wins
                if key == "deployments":
                    param, first = _first_error(value, "deployments")
                    named[param] = [first]
                else:
                    named[key] = value
            raise serializers.ValidationError(named) from e

    def spec(self) -> RouteSpec:
        data = self.validated_data
        return RouteSpec(
            strategy=data["strategy"],
            min_quality=data.get("min_quality"),
            max_attempts=data.get("max_attempts"),
            deadline_s=data.get("deadline_s"),
            deployments=[DeploymentInSerializer.spec(d) for d in data["deployments"]],
        )


class PriceOutSerializer(serializers.Serializer[Any]):
    input_per_mtok = serializers.CharField()
    output_per_mtok = serializers.CharField()


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    provider_key_id = serializers.UUIDField(allow_null=True, read_only=True)
    price = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "provider",
            "model",
            "api_base",
            "api_version",
            "provider_key_id",
            "weight",
            "quality",
            "price",
            "timeout_s",
            "connect_timeout_s",
            "health_check",
        ]

    @extend_schema_field(PriceOutSerializer(allow_null=True))
    def get_price(self, deployment: Deployment) -> dict[str, str] | None:
        given, taken = deployment.price_input_per_mtok, deployment.price_output_per_mtok
        if given is None or taken is None:
            return None
        return {"input_per_mtok": str(given), "output_per_mtok": str(taken)}


class RouteSerializer(serializers.ModelSerializer[Route]):
    deployments = DeploymentSerializer(many=True, read_only=True)

    class Meta:
        model = Route
        fields = [
            "id",
            "model",
            "strategy",
            "min_quality",
            "max_attempts",
            "deadline_s",
            "deployments",
            "created_at",
            "updated_at",
        ]


class ProviderKeyCreateSerializer(StrictSerializer):
    """A provider key to store (BYOK); it is sealed at once and never returned."""

    provider = serializers.ChoiceField(choices=PROVIDER_CHOICES)
    # trim_whitespace off: the action strips and checks, one rule for API and dashboard.
    api_key = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        validators=[RegexValidator(API_KEY_PATTERN)],
        help_text="8 to 4096 printable ASCII characters, no spaces.",
    )
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        validators=[RegexValidator(r"^[^\x00-\x1f\x7f]*$")],
    )


class ProviderKeySerializer(serializers.ModelSerializer[ProviderKey]):
    """A provider key as it is listed: never the key, only its last four characters."""

    revoked = serializers.SerializerMethodField()

    class Meta:
        model = ProviderKey
        fields = ["id", "provider", "name", "last4", "created_at", "revoked_at", "revoked"]

    def get_revoked(self, key: ProviderKey) -> bool:
        return key.revoked_at is not None
