"""What a budget and the budget settings should be, and the checks every door shares.

The API's serializers and the dashboard's forms turn input into these specs
(parsing strings with parse_limit and gateway.specs.parse_price);
gateway.budgets.actions checks them here again before anything is written, so a rule
is kept once whatever the door.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import available_timezones

from gateway import models as gateway_models
from gateway.budgets.models import LIMIT_MAX_NANO, LIMIT_MAX_USD, OnExhausted, Period, Scope
from gateway.shared.money import parse_usd, usd_to_nano
from gateway.specs import PriceSpec
from tenants.errors import Invalid
from tenants.models import MAX_OUTPUT_TOKENS_MAX, Organization

PRICE_QUANTUM = Decimal(1).scaleb(-gateway_models.PRICE_DECIMAL_PLACES)
# Names that load but do not say where anyone is: the machine's own zone and a placeholder.
_NOT_A_PLACE = frozenset({"localtime", "Factory"})


@dataclass(frozen=True)
class BudgetSpec:
    scope: str
    # None for an org budget: it can only be the org's own.
    scope_id: uuid.UUID | None
    limit_nano: int
    period: str
    on_exhausted: str = OnExhausted.BLOCK


@dataclass(frozen=True)
class BudgetSettingsSpec:
    timezone: str
    default_price: PriceSpec | None
    default_max_output_tokens: int | None

    @classmethod
    def of(cls, org: Organization) -> BudgetSettingsSpec:
        """The org's settings as they are now."""
        given, taken = org.default_price_input_per_mtok, org.default_price_output_per_mtok
        return cls(
            timezone=org.timezone,
            default_price=PriceSpec(given, taken)
            if given is not None and taken is not None
            else None,
            default_max_output_tokens=org.default_max_output_tokens,
        )


def parse_limit(value: object) -> int:
    """Read a budget limit from a USD decimal string into nano-USD; raise ValueError."""
    amount = parse_usd(value, maximum=LIMIT_MAX_USD)
    if amount == 0:
        raise ValueError("A limit must be more than zero; delete the budget to lift it.")
    return usd_to_nano(amount)


def _choice(value: str, choices: type[Scope | Period | OnExhausted], param: str) -> None:
    if value not in choices.values:
        raise Invalid(param, f"Must be one of {', '.join(choices.values)}.")


def check_budget(spec: BudgetSpec) -> None:
    """Check a budget's own values; whether its scope exists is the action's business."""
    _choice(spec.scope, Scope, "scope")
    _choice(spec.period, Period, "period")
    _choice(spec.on_exhausted, OnExhausted, "on_exhausted")
    if not 0 < spec.limit_nano <= LIMIT_MAX_NANO:
        raise Invalid("limit_usd", f"A limit is more than zero and at most {LIMIT_MAX_USD} USD.")
    if spec.scope != Scope.ORG and spec.scope_id is None:
        raise Invalid("scope_id", f"A {spec.scope} budget needs the id of its {spec.scope}.")


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    """IANA zone names this machine knows (the tzdata package, or the system's files)."""
    return frozenset(available_timezones() - _NOT_A_PLACE) | {"UTC"}


def _valid_price(price: Decimal) -> bool:
    return (
        price.is_finite()
        and Decimal(0) <= price <= gateway_models.PRICE_MAX
        and price == price.quantize(PRICE_QUANTUM)
    )


def check_settings(spec: BudgetSettingsSpec) -> None:
    if spec.timezone not in timezone_names():
        raise Invalid("timezone", "Not a time zone name, e.g. UTC or Europe/Berlin.")
    if spec.default_price is not None:
        for name in ("input_per_mtok", "output_per_mtok"):
            if not _valid_price(getattr(spec.default_price, name)):
                raise Invalid(f"default_price.{name}", "Not a valid price.")
    tokens = spec.default_max_output_tokens
    if tokens is not None and not 1 <= tokens <= MAX_OUTPUT_TOKENS_MAX:
        raise Invalid(
            "default_max_output_tokens", f"Must be between 1 and {MAX_OUTPUT_TOKENS_MAX}."
        )
