"""JSON shapes of budgets, budget settings and rate limits; unknown fields are refused."""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gateway.api.serializers import PriceOutSerializer, PriceSerializer
from gateway.budgets.models import OnExhausted, Period, Scope
from gateway.budgets.specs import BudgetSpec, parse_limit, timezone_names
from gateway.budgets.status import BudgetStatus
from gateway.shared.money import nano_to_usd
from tenants.api.serializers import IdField, StrictSerializer
from tenants.models import MAX_OUTPUT_TOKENS_MAX, Organization

USD_EXAMPLE = "50.000000"


def _positive_decimals(places: int) -> str:
    """A regex of 1 to `places` decimal digits that are not all zero."""
    return "|".join(f"0{{{zeros}}}[1-9][0-9]{{0,{places - zeros - 1}}}" for zeros in range(places))


# What parse_limit takes: more than zero, at most 1000000, six decimal places at most.
LIMIT_PATTERN = (
    r"^([1-9][0-9]{0,5}(\.[0-9]{1,6})?|1000000(\.0{1,6})?|0\.(%s))$" % _positive_decimals(6)  # noqa: UP031
)


@extend_schema_field({"type": "string", "pattern": LIMIT_PATTERN, "example": "50.00"})
class LimitField(serializers.Field[int, str, str, Any]):
    """A limit in USD as a decimal string, read into nano-USD; a JSON number is refused."""

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_limit(data)
        except ValueError as e:
            raise serializers.ValidationError(str(e), code="invalid_amount") from e

    def to_representation(self, value: int) -> str:
        return nano_to_usd(value)


class BudgetCreateSerializer(StrictSerializer):
    """POST /api/v1/budgets/: one budget per scope and period."""

    # check_budget: only an org budget may leave scope_id out (tenants.api.schema reads this).
    schema_constraints: ClassVar[dict[str, Any]] = {
        "anyOf": [
            # A pattern, not an enum: drf-spectacular would name it as a second Scope enum.
            {"properties": {"scope": {"type": "string", "pattern": f"^{Scope.ORG.value}$"}}},
            {"required": ["scope_id"], "properties": {"scope_id": {"type": "string"}}},
        ]
    }

    scope = serializers.ChoiceField(choices=Scope.choices)
    scope_id = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The team's, project's, member's (user id) or key's id; for org, the org's"
        " own id or nothing.",
    )
    limit_usd = LimitField(help_text='More than zero, at most 1000000, e.g. "50.00".')
    period = serializers.ChoiceField(choices=Period.choices)
    on_exhausted = serializers.ChoiceField(
        choices=OnExhausted.choices, required=False, default=OnExhausted.BLOCK
    )

    def spec(self) -> BudgetSpec:
        data = self.validated_data
        return BudgetSpec(
            scope=data["scope"],
            scope_id=data["scope_id"],
            limit_nano=data["limit_usd"],
            period=data["period"],
            on_exhausted=data["on_exhausted"],
        )


class WindowOut(TypedDict):
    id: str
    starts_at: str | None
    ends_at: str | None


class BudgetOut(TypedDict):
    id: str
    scope: str
    scope_id: str
    scope_name: str
    limit_usd: str
    period: str
    on_exhausted: str
    window: WindowOut | None
    spent_usd: str | None
    reserved_usd: str | None
    remaining_usd: str | None
    created_at: str


def budget_out(status: BudgetStatus) -> BudgetOut:
    budget, window, counters = status.budget, status.window, status.counters

    def iso(moment: Any) -> str | None:
        return moment.isoformat().replace("+00:00", "Z") if moment is not None else None

    return {
        "id": str(budget.id),
        "scope": budget.scope,
        "scope_id": str(budget.scope_id),
        "scope_name": status.scope_name,
        "limit_usd": nano_to_usd(budget.limit_nano),
        "period": budget.period,
        "on_exhausted": budget.on_exhausted,
        "window": (
            {"id": window.id, "starts_at": iso(window.starts_at), "ends_at": iso(window.ends_at)}
            if window is not None
            else None
        ),
        "spent_usd": nano_to_usd(counters.spent) if counters else None,
        "reserved_usd": nano_to_usd(counters.reserved) if counters else None,
        "remaining_usd": nano_to_usd(counters.remaining) if counters else None,
        "created_at": iso(budget.created_at) or "",
    }


class WindowSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text='"d2026-11-23", "m2026-11" or "total".')
    starts_at = serializers.DateTimeField(allow_null=True, help_text="null for total.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null for total.")


_COUNTER_HELP = (
    "USD in the current window; null for a per-request budget (no window)"
    " or while the live counters cannot be read."
)


class BudgetSerializer(serializers.Serializer[Any]):
    """A budget with its live counters in the current window (the org's time zone)."""

    id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=Scope.choices)
    scope_id = serializers.UUIDField()
    scope_name = serializers.CharField(help_text="The team's, project's, member's or key's name.")
    limit_usd = serializers.CharField(help_text=f'e.g. "{USD_EXAMPLE}"')
    period = serializers.ChoiceField(choices=Period.choices)
    on_exhausted = serializers.ChoiceField(choices=OnExhausted.choices)
    window = WindowSerializer(allow_null=True, help_text="null for a per-request budget.")
    spent_usd = serializers.CharField(allow_null=True, help_text=_COUNTER_HELP)
    reserved_usd = serializers.CharField(
        allow_null=True, help_text="Held by requests in flight. " + _COUNTER_HELP
    )
    remaining_usd = serializers.CharField(
        allow_null=True, help_text="limit - spent - reserved, at least zero. " + _COUNTER_HELP
    )
    created_at = serializers.DateTimeField()


@extend_schema_field({"type": "string", "enum": sorted(timezone_names())})
class TimezoneField(serializers.CharField):
    """An IANA time zone name this machine knows (check_settings refuses any other)."""


class BudgetSettingsPatchSerializer(StrictSerializer):
    """PATCH /api/v1/budget-settings/: what is given changes; null clears."""

    timezone = TimezoneField(
        max_length=64, required=False, help_text="IANA name; day and month budgets follow it."
    )
    default_price = PriceSerializer(
        required=False,
        allow_null=True,
        help_text="Reserved for a model the pricing table does not know; null refuses such"
        " models while a budget applies.",
    )
    default_max_output_tokens = serializers.IntegerField(
        min_value=1,
        max_value=MAX_OUTPUT_TOKENS_MAX,
        required=False,
        allow_null=True,
        help_text="Reserved when a request names no maximum; null: the model's maximum.",
    )


class BudgetSettingsOut(TypedDict):
    timezone: str
    default_price: dict[str, str] | None
    default_max_output_tokens: int | None


def settings_out(org: Organization) -> BudgetSettingsOut:
    given, taken = org.default_price_input_per_mtok, org.default_price_output_per_mtok
    price = (
        {"input_per_mtok": str(given), "output_per_mtok": str(taken)}
        if given is not None and taken is not None
        else None
    )
    return {
        "timezone": org.timezone,
        "default_price": price,
        "default_max_output_tokens": org.default_max_output_tokens,
    }


class BudgetSettingsSerializer(serializers.Serializer[Any]):
    timezone = serializers.CharField()
    default_price = PriceOutSerializer(allow_null=True)
    default_max_output_tokens = serializers.IntegerField(allow_null=True)
