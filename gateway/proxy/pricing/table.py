"""The price table: the shipped prices.yaml with the operator's SELIXES_PRICES file merged over it.

Merging is by model: an entry in the extra file replaces the shipped entry of
the same provider and name whole (prices, limits, aliases), and its name wins
over a shipped alias. Lookup tries, in order: an entry's own name, an alias,
then a dated snapshot ("gpt-5.6-sol-2026-08-21", "claude-opus-5-20260601")
of an entry marked `dated` - never a guess from a similar name, since a
snapshot may be priced differently from its family (gpt-4o-2024-05-13 is).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from gateway.proxy.errors import PricingError
from gateway.proxy.pricing.model_price import ModelPrice
from gateway.proxy.pricing.schema import ModelEntry, read_price_file

SHIPPED_PRICES = Path(__file__).with_name("prices.yaml")
EXTRA_PRICES_VARIABLE = "SELIXES_PRICES"

_DATED_NAME = re.compile(r"(?P<base>.+)-(?:\d{4}-\d{2}-\d{2}|\d{8})")


class PriceTable:
    def __init__(self, providers: Mapping[str, Mapping[str, ModelEntry]]) -> None:
        self._entries = {p: dict(models) for p, models in providers.items()}
        self._aliases: dict[str, dict[str, ModelEntry]] = {}
        for provider, models in self._entries.items():
            aliases: dict[str, ModelEntry] = {}
            for entry in models.values():
                for alias in entry.aliases:
                    if alias not in models:  # an entry's own name wins over an alias
                        aliases[alias] = entry
            self._aliases[provider] = aliases

    @classmethod
    def load(cls, *paths: Path) -> PriceTable:
        """Read and merge pricing files, later ones over earlier ones."""
        merged: dict[str, dict[str, ModelEntry]] = {}
        for path in paths:
            for provider, models in read_price_file(path).items():
                merged.setdefault(provider, {}).update(models)
        return cls(merged)

    def entry(self, provider: str, model: str) -> ModelEntry | None:
        """Return the entry pricing `model` at `provider`, or None if the table does not know it."""
        models = self._entries.get(provider)
        if not models:
            return None
        # Gemini's API also names models "models/<name>".
        name = model.removeprefix("models/") if provider == "gemini" else model
        found = models.get(name) or self._aliases[provider].get(name)
        if found is not None:
            return found
        dated = _DATED_NAME.fullmatch(name)
        if dated is not None:
            base = models.get(dated["base"])
            if base is not None and base.dated:
                return base
        return None

    def lookup(
        self, provider: str, model: str, on: datetime.date | None = None
    ) -> ModelPrice | None:
        """Return the price of `model` at `provider` on a UTC day (default today), or None."""
        entry = self.entry(provider, model)
        if entry is None:
            return None
        return entry.price_on(on or datetime.datetime.now(datetime.UTC).date())

    def providers(self) -> dict[str, tuple[str, ...]]:
        """Return each provider's model names (aliases excluded), for listings and tests."""
        return {p: tuple(models) for p, models in self._entries.items()}


def load_price_table(extra: str | None = None) -> PriceTable:
    """Load the shipped prices merged with the file at `extra` (a path; None or "" = none)."""
    paths = [SHIPPED_PRICES]
    if extra:
        path = Path(extra)
        if not path.is_file():
            raise PricingError(f"{EXTRA_PRICES_VARIABLE}={extra}: no such file.")
        paths.append(path)
    return PriceTable.load(*paths)


@cache
def price_table(extra: str = "") -> PriceTable:
    """Return the process-wide price table for SELIXES_PRICES `extra`, loaded once.

    The proxy calls it when it starts (ProxySettings.extra_prices), so a
    broken file stops the process there with PricingError's message, instead
    of failing requests later.
    """
    return load_price_table(extra)
