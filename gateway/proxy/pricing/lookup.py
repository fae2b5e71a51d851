"""Which price applies to a deployment: its own override, else the table, else the org's default."""

from __future__ import annotations

import datetime
from functools import lru_cache

from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.pricing.model_price import ModelPrice
from gateway.proxy.pricing.schema import MAX_PRICE_PER_MTOK
from gateway.proxy.pricing.table import PriceTable
from gateway.shared.managed_access import uses_platform_key
from gateway.shared.money import parse_usd, price_to_micro
from gateway.shared.snapshot import BudgetDefaults, DeploymentEntry, PriceEntry


def price_for(
    deployment: DeploymentEntry,
    defaults: BudgetDefaults | None,
    table: PriceTable,
    on: datetime.date | None = None,
) -> ModelPrice | None:
    """Return the price of a deployment on a UTC day (default today); None = unknown.

    The caller refuses a request it cannot price (fail closed). Price a
    request once, when it is admitted, and settle it with the same price.
    On the platform's key only the price list counts: neither the tenant's
    override nor its default price (gateway.shared.managed_access).
    """
    known = table.lookup(deployment["provider"], deployment["model"], on)
    if uses_platform_key(deployment["provider"], deployment["provider_key_id"]):
        return known
    override = deployment.get("price")
    if override is not None:
        # The override sets the prices; what the table knows of the model's limits still holds.
        return _flat_price(
            override,
            f"Deployment {deployment['id']}",
            max_output_tokens=known.max_output_tokens if known else None,
            max_input_tokens=known.max_input_tokens if known else None,
        )
    if known is not None:
        return known
    if defaults is not None and defaults.get("default_price") is not None:
        default = defaults["default_price"]
        assert default is not None
        return _flat_price(default, "The organization's default price")
    return None


def _flat_price(
    entry: PriceEntry,
    owner: str,
    max_output_tokens: int | None = None,
    max_input_tokens: int | None = None,
) -> ModelPrice:
    """Build a price from input and output rates alone.

    Cached and cache-write tokens are billed at the input rate, reasoning at the output rate.
    """
    try:
        return _flat(
            entry["input_per_mtok"], entry["output_per_mtok"], max_output_tokens, max_input_tokens
        )
    except (KeyError, TypeError, ValueError) as e:
        # web validates prices before publishing them; a bad one here is a broken snapshot.
        raise MisconfiguredDeployment(f"{owner} has an invalid price: {e}") from e


# Every request of a route with its own price is priced again; parsing two
# decimal strings each time was 3% of the proxy's CPU. ModelPrice is frozen.
@lru_cache(maxsize=4096)
def _flat(
    input_per_mtok: str,
    output_per_mtok: str,
    max_output_tokens: int | None,
    max_input_tokens: int | None,
) -> ModelPrice:
    input_ = price_to_micro(parse_usd(input_per_mtok, maximum=MAX_PRICE_PER_MTOK))
    output = price_to_micro(parse_usd(output_per_mtok, maximum=MAX_PRICE_PER_MTOK))
    return ModelPrice(
        input=input_,
        cached_input=input_,
        cache_write=input_,
        output=output,
        reasoning=output,
        max_output_tokens=max_output_tokens,
        max_input_tokens=max_input_tokens,
    )
