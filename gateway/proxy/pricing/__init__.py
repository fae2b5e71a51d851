"""Pricing for the budget engine: what a model costs, what a request costs, at worst and in fact.

    price_table()           the shipped prices.yaml merged with SELIXES_PRICES (cached)
    price_for(dep, ...)     deployment override > table > org default; None = unknown
    worst_case_cost_nano()  the reservation: an upper bound of any actual cost
    actual_cost_nano()      the settlement, from the usage the provider reported

Pure Python (no Django): web may import it to validate prices too. All
amounts are integers (micro-USD per Mtok in, nano-USD out); never a float.
"""

from __future__ import annotations

from gateway.proxy.errors import PricingError
from gateway.proxy.pricing.lookup import price_for
from gateway.proxy.pricing.model_price import (
    LongContextPrice,
    ModelPrice,
    actual_cost_nano,
    worst_case_cost_nano,
)
from gateway.proxy.pricing.table import (
    EXTRA_PRICES_VARIABLE,
    SHIPPED_PRICES,
    PriceTable,
    load_price_table,
    price_table,
)

__all__ = [
    "EXTRA_PRICES_VARIABLE",
    "SHIPPED_PRICES",
    "LongContextPrice",
    "ModelPrice",
    "PriceTable",
    "PricingError",
    "actual_cost_nano",
    "load_price_table",
    "price_for",
    "price_table",
    "worst_case_cost_nano",
]
