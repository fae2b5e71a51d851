"""Money inside Selixes: integer nano-USD (1e-9 USD); decimal strings at the edges; never float.

Why nano and not micro: prices are kept with six decimals per million tokens
(0.000001 USD per Mtok is 1e-12 USD per token), so one token of a cheap model
costs a fraction of a micro-dollar; nano-USD keeps per-request costs exact
enough while every amount still fits the 2^53 integers Redis' Lua can add
exactly (9e15 nano-USD is 9 million USD, far above any limit we accept).

Prices travel as integer micro-USD per million tokens, which is the same
number as pico-USD per token; a cost is tokens x that / 1000, rounded up,
so rounding never makes a reservation smaller than the truth.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

NANO_PER_USD = 10**9
MICRO_PER_USD = 10**6
# Limits and prices are accepted with at most six decimal places ("0.012500").
USD_PLACES = 6
_USD = re.compile(r"[0-9]{1,9}(\.[0-9]{1,%d})?" % USD_PLACES)  # noqa: UP031
_QUANTUM = Decimal(1).scaleb(-USD_PLACES)


def parse_usd(value: object, *, maximum: Decimal | None = None) -> Decimal:
    """Read a non-negative USD amount from a decimal string; raise ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError('An amount in USD is a decimal string, e.g. "12.50", never a JSON number.')
    if not _USD.fullmatch(value):
        raise ValueError(
            f"An amount in USD is a non-negative decimal with at most {USD_PLACES}"
            ' decimal places, e.g. "0.012500".'
        )
    amount = Decimal(value)
    if maximum is not None and amount > maximum:
        raise ValueError(f"An amount may not exceed {maximum} USD.")
    return amount


def usd_to_nano(amount: Decimal) -> int:
    """Exact for amounts with at most nine decimal places; rounds up otherwise."""
    return int((amount * NANO_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def nano_to_usd(nano: int) -> str:
    """The edge form of an amount: six decimal places, rounded up ("0.000001" for 1 nano-USD)."""
    return str((Decimal(nano) / NANO_PER_USD).quantize(_QUANTUM, rounding=ROUND_CEILING))


def price_to_micro(per_mtok: Decimal) -> int:
    """A price in USD per million tokens (six places at most) as integer micro-USD per Mtok."""
    micro = per_mtok * MICRO_PER_USD
    if micro != micro.to_integral_value():
        raise ValueError("A price has at most six decimal places.")
    return int(micro)


def token_cost_nano(tokens: int, micro_per_mtok: int) -> int:
    """Cost of `tokens` at a price in micro-USD per Mtok, in nano-USD, rounded up."""
    return -(-tokens * micro_per_mtok // 1000)
