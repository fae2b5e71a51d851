"""Read a pricing YAML file strictly: every mistake is an error naming the file and the entry.

The format (prices.yaml beside this module is the reference):

    providers:
      <provider>:                  # a name from gateway.shared.providers_catalog.PROVIDERS
        source: <where the prices were read>
        checked: "YYYY-MM-DD"     # when
        limits_source: <where max_output_tokens/max_input_tokens were read>  # optional
        models:
          <model>:
            input: "2.50"          # USD per million tokens, a string, at most 6 decimals
            output: "10.00"
            cached_input: "1.25"   # optional, default input
            cache_write: "3.75"    # optional, default input
            reasoning: "10.00"     # optional, default output
            max_output_tokens: 16384   # optional integer or null
            max_input_tokens: 128000   # optional integer or null
            aliases: [gpt-4o-2024-08-06]  # other names of exactly this model and price
            dated: true            # optional: "<model>-YYYY-MM-DD" / "<model>-YYYYMMDD" too
            long_context: {above_input_tokens: 272000, input: "5.00", output: "22.50", ...}
            priority: {input: "4.25", cached_input: "2.125", output: "17.00",
                       source: <where>, checked: "YYYY-MM-DD"}  # service_tier "priority"
            changes: [{from: "2027-01-01", input: "1.50", output: "7.50"}]  # scheduled, whole
            source: ...            # optional, overrides the provider's
            checked: ...
            note: free text

Prices are strings on purpose: YAML reads 2.50 as a binary float, and money is
never a float here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from gateway.proxy.errors import PricingError
from gateway.proxy.pricing.model_price import LongContextPrice, ModelPrice
from gateway.shared.money import parse_usd, price_to_micro
from gateway.shared.providers_catalog import PROVIDERS

# Far above any price list entry (the dearest model is in the hundreds of USD per Mtok).
MAX_PRICE_PER_MTOK = Decimal(100_000)
# Far above any model's context window or output limit.
MAX_TOKENS = 100_000_000

_PRICE_FIELDS = ("input", "output", "cached_input", "cache_write", "reasoning")
_LIMIT_FIELDS = ("max_output_tokens", "max_input_tokens")
_ENTRY_FIELDS = (
    "aliases",
    "dated",
    "long_context",
    "priority",
    "changes",
    "source",
    "checked",
    "note",
)
_MODEL_FIELDS = frozenset((*_PRICE_FIELDS, *_LIMIT_FIELDS, *_ENTRY_FIELDS))
_TIER_FIELDS = frozenset(("above_input_tokens", *_PRICE_FIELDS))
# Priority rates often come from another page than the standard ones: say which, and when.
_PRIORITY_FIELDS = frozenset((*_PRICE_FIELDS, "source", "checked"))
_CHANGE_FIELDS = frozenset(("from", *_PRICE_FIELDS, "long_context", "priority"))
_PROVIDER_FIELDS = frozenset(("source", "checked", "limits_source", "models", "note"))


@dataclass(frozen=True)
class PriceChange:
    starts_on: datetime.date  # UTC day from which `price` applies
    price: ModelPrice


@dataclass(frozen=True)
class ModelEntry:
    name: str
    price: ModelPrice
    changes: tuple[PriceChange, ...]  # ascending by date
    aliases: tuple[str, ...]
    dated: bool
    source: str
    checked: str
    origin: str  # "<file>: providers.<provider>.models.<model>", for messages

    def price_on(self, day: datetime.date) -> ModelPrice:
        """Return the price in force on a UTC day (the latest change on or before it)."""
        price = self.price
        for change in self.changes:
            if change.starts_on <= day:
                price = change.price
        return price


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (plain YAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def read_price_file(path: Path) -> dict[str, dict[str, ModelEntry]]:
    """Parse and validate one pricing file into provider -> model name -> entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PricingError(f"{path}: cannot be read ({e.strerror or e}).") from e
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise PricingError(f"{path}: is not valid YAML: {e}") from e
    return _document(document, str(path))


def _document(document: object, file: str) -> dict[str, dict[str, ModelEntry]]:
    if not isinstance(document, dict) or set(document) != {"providers"}:
        raise PricingError(f"{file}: the top level must be a mapping with one key, 'providers'.")
    providers = document["providers"]
    if not isinstance(providers, dict):
        raise PricingError(f"{file}: 'providers' must be a mapping of provider names.")
    table: dict[str, dict[str, ModelEntry]] = {}
    for provider, block in providers.items():
        where = f"{file}: providers.{provider}"
        if provider not in PROVIDERS:
            raise PricingError(f"{where}: unknown provider; known: {', '.join(PROVIDERS)}.")
        table[provider] = _provider(block, where)
    return table


def _provider(block: object, where: str) -> dict[str, ModelEntry]:
    fields = _mapping(block, where, _PROVIDER_FIELDS)
    models = fields.get("models")
    if not isinstance(models, dict) or not models:
        raise PricingError(f"{where}: 'models' must be a non-empty mapping.")
    source = _optional_text(fields, "source", where)
    checked = _optional_date(fields, "checked", where)
    entries: dict[str, ModelEntry] = {}
    names: dict[str, str] = {}  # every name and alias -> the entry it belongs to
    for name, spec in models.items():
        entry = _model(name, spec, f"{where}.models.{name}", source, checked)
        for known in (entry.name, *entry.aliases):
            if known in names:
                raise PricingError(
                    f"{entry.origin}: the name {known!r} is already used by {names[known]!r}."
                )
            names[known] = entry.name
        entries[entry.name] = entry
    return entries


def _model(
    name: object, spec: object, where: str, source: str | None, checked: str | None
) -> ModelEntry:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise PricingError(f"{where}: a model name is a non-empty string without spaces around.")
    fields = _mapping(spec, where, _MODEL_FIELDS)
    price = _price(fields, where)
    source = _optional_text(fields, "source", where) or source
    checked = _optional_date(fields, "checked", where) or checked
    if source is None or checked is None:
        raise PricingError(f"{where}: 'source' and 'checked' are required (here or per provider).")
    _optional_text(fields, "note", where)
    return ModelEntry(
        name=name,
        price=price,
        changes=_changes(fields.get("changes"), where, price),
        aliases=_aliases(fields.get("aliases"), where),
        dated=_flag(fields, "dated", where),
        source=source,
        checked=checked,
        origin=where,
    )


def _price(fields: dict[str, Any], where: str, limits_of: ModelPrice | None = None) -> ModelPrice:
    """Build a price from `fields`; a scheduled change takes the model's limits from `limits_of`."""
    given = {f: _micro(fields[f], f"{where}.{f}") for f in _PRICE_FIELDS if f in fields}
    for required in ("input", "output"):
        if required not in given:
            raise PricingError(f"{where}: '{required}' is required.")
    input_, output = given["input"], given["output"]
    if limits_of is None:
        max_output = _optional_tokens(fields, "max_output_tokens", where)
        max_input = _optional_tokens(fields, "max_input_tokens", where)
    else:
        max_output, max_input = limits_of.max_output_tokens, limits_of.max_input_tokens
    # A price list with no separate cached/cache-write/reasoning rate bills those
    # tokens as ordinary input or output.
    price = ModelPrice(
        input=input_,
        output=output,
        cached_input=given.get("cached_input", input_),
        cache_write=given.get("cache_write", input_),
        reasoning=given.get("reasoning", output),
        max_output_tokens=max_output,
        max_input_tokens=max_input,
    )
    tier = fields.get("long_context")
    if tier is not None:
        price = replace(price, long_context=_long_context(tier, f"{where}.long_context", price))
    priority = fields.get("priority")
    if priority is not None:
        price = replace(price, priority=_priority(priority, f"{where}.priority", price))
    return price


def _priority(spec: object, where: str, base: ModelPrice) -> ModelPrice:
    """Priority rates; a long prompt keeps the standard long-context rates (OpenAI serves
    prompts over 128K tokens at standard processing), so the worst case covers both."""
    fields = _mapping(spec, where, _PRIORITY_FIELDS)
    if (
        _optional_text(fields, "source", where) is None
        or _optional_date(fields, "checked", where) is None
    ):
        raise PricingError(f"{where}: 'source' and 'checked' are required.")
    rates = {f: fields[f] for f in _PRICE_FIELDS if f in fields}
    return replace(_price(rates, where, limits_of=base), long_context=base.long_context)


def _long_context(spec: object, where: str, base: ModelPrice) -> LongContextPrice:
    fields = _mapping(spec, where, _TIER_FIELDS)
    above = fields.get("above_input_tokens")
    if not isinstance(above, int) or isinstance(above, bool) or not 0 < above <= MAX_TOKENS:
        raise PricingError(f"{where}.above_input_tokens: a positive integer is required.")
    return LongContextPrice(above_input_tokens=above, price=_price(fields, where, limits_of=base))


def _changes(spec: object, where: str, base: ModelPrice) -> tuple[PriceChange, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, list) or not spec:
        raise PricingError(f"{where}.changes: a non-empty list is required.")
    changes: list[PriceChange] = []
    for index, item in enumerate(spec):
        at = f"{where}.changes[{index}]"
        fields = _mapping(item, at, _CHANGE_FIELDS)
        day = _optional_date(fields, "from", at)
        if day is None:
            raise PricingError(f"{at}: 'from' (a UTC date, YYYY-MM-DD) is required.")
        starts_on = datetime.date.fromisoformat(day)
        if changes and starts_on <= changes[-1].starts_on:
            raise PricingError(f"{at}: changes must be in ascending date order.")
        # A change restates the whole price, so no rate is silently carried over.
        if base.long_context is not None and "long_context" not in fields:
            raise PricingError(f"{at}: the model has long-context prices; restate them.")
        if base.priority is not None and "priority" not in fields:
            raise PricingError(f"{at}: the model has priority prices; restate them.")
        changes.append(PriceChange(starts_on, _price(fields, at, limits_of=base)))
    return tuple(changes)


def _aliases(spec: object, where: str) -> tuple[str, ...]:
    if spec is None:
        return ()
    if not isinstance(spec, list) or not all(isinstance(a, str) and a.strip() for a in spec):
        raise PricingError(f"{where}.aliases: a list of model names is required.")
    if len(set(spec)) != len(spec):
        raise PricingError(f"{where}.aliases: a name is listed twice.")
    return tuple(spec)


def _mapping(value: object, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PricingError(f"{where}: a mapping is required.")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        allowed_list = ", ".join(sorted(allowed))
        raise PricingError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {allowed_list}."
        )
    return value


def _micro(value: object, where: str) -> int:
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise PricingError(
            f'{where}: prices are quoted strings ("{value}"), never YAML numbers:'
            " YAML reads them as floats."
        )
    try:
        return price_to_micro(parse_usd(value, maximum=MAX_PRICE_PER_MTOK))
    except ValueError as e:
        raise PricingError(f"{where}: {e} Got {value!r}.") from e


def _optional_tokens(fields: dict[str, Any], name: str, where: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_TOKENS:
        raise PricingError(f"{where}.{name}: a positive integer (or null) is required.")
    return int(value)


def _flag(fields: dict[str, Any], name: str, where: str) -> bool:
    value = fields.get(name, False)
    if not isinstance(value, bool):
        raise PricingError(f"{where}.{name}: true or false is required.")
    return value


def _optional_text(fields: dict[str, Any], name: str, where: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PricingError(f"{where}.{name}: a non-empty string is required.")
    return value


def _optional_date(fields: dict[str, Any], name: str, where: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    # YAML turns an unquoted 2026-11-23 into a date; a quoted one stays a string.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise PricingError(f"{where}.{name}: a date (YYYY-MM-DD) is required.")
