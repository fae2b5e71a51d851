"""Request fields that make a provider bill above its standard rates: priced, or refused.

A reservation is a true bound only if it is priced at the rate the provider
will bill. Some fields raise that rate for the whole request:

    field                               provider bills          here
    OpenAI service_tier "priority"      the priority rates      priced (prices.yaml)
    Anthropic cache_control ttl "1h"    cache writes 2x input   priced
    Anthropic inference_geo "us"        every rate x 1.1        priced
    OpenAI modalities audio / `audio`   audio output rates      refused (none known)
    Anthropic speed "fast"              a per-model premium     refused (none listed)

Priced terms go into the price of each candidate, so the reservation and the
settlement (the request log's cost) both use them. Refusals are 400s whether
or not a budget applies: a request with no budget still records a cost, and
an underpriced cost is a wrong bill. Values a provider does not document are
refused too, since what they would cost is unknown.

Cheaper terms (OpenAI flex, batch, scale units) keep the standard rate: an
upper bound. Only top-level dict lookups on the hot path; the cache_control
scan looks at blocks only when an Anthropic deployment is a candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gateway.proxy.errors import UnpricedField
from gateway.proxy.pricing.model_price import LongContextPrice, ModelPrice
from gateway.proxy.providers.openai import FLAVORS
from gateway.shared.snapshot import DeploymentEntry

# Providers whose adapter forwards an OpenAI body's unknown fields, service_tier among them.
_FORWARDS_SERVICE_TIER = frozenset((*FLAVORS, "azure"))
# OpenAI's service tiers that never bill above the standard rate.
_STANDARD_TIERS = frozenset({"auto", "default", "flex", "scale"})
_ANTHROPIC_TIERS = frozenset({"auto", "standard_only"})
# 1-hour cache writes cost twice the base input rate (Anthropic's pricing page).
_LONG_CACHE_WRITE_FACTOR = 2
# US-only inference costs 1.1x every rate: (numerator, denominator).
_US_INFERENCE_FACTOR = (11, 10)


@dataclass(frozen=True, slots=True)
class Terms:
    """What in a request raises the rate, read once per request."""

    priority: bool = False  # service_tier "priority"
    long_cache_writes: bool = False  # a cache_control with ttl "1h"
    us_inference: bool = False  # inference_geo "us"


STANDARD = Terms()


def request_terms(
    payload: dict[str, Any], dialect: str, candidates: list[DeploymentEntry]
) -> Terms:
    """Read the fields that raise the rate; refuse those no price can cover.

    Cache breakpoints are looked for only when an Anthropic deployment is
    among the `candidates` (no other provider reads cache_control).
    """
    anthropic_candidate = False
    for deployment in candidates:  # a plain loop: no generator on the hot path
        if deployment["provider"] == "anthropic":
            anthropic_candidate = True
            break
    if dialect == "anthropic":
        return _anthropic(payload, anthropic_candidate)
    tier = payload.get("service_tier")
    if tier is not None and tier != "priority" and tier not in _STANDARD_TIERS:
        raise UnpricedField(
            f"'service_tier' {tier!r} is not one the gateway can price; use 'auto',"
            " 'default', 'flex' or 'priority'.",
            param="service_tier",
        )
    modalities = payload.get("modalities")
    if isinstance(modalities, list) and "audio" in modalities:
        raise _no_audio("modalities")
    if payload.get("audio") is not None:
        raise _no_audio("audio")
    long_cache = anthropic_candidate and _has_long_cache(payload)
    if tier != "priority" and not long_cache:
        return STANDARD
    return Terms(priority=tier == "priority", long_cache_writes=long_cache)


def _anthropic(payload: dict[str, Any], anthropic_candidate: bool) -> Terms:
    tier = payload.get("service_tier")
    if tier is not None and tier not in _ANTHROPIC_TIERS:
        raise UnpricedField(
            f"'service_tier' {tier!r} is not one the gateway can price; use 'auto' or"
            " 'standard_only'.",
            param="service_tier",
        )
    speed = payload.get("speed")
    if speed is not None and speed != "standard":
        raise UnpricedField(
            f"'speed' {speed!r} is billed at a premium that differs by model and is in no"
            " price list the gateway has, so the request cannot be priced.",
            param="speed",
        )
    geo = payload.get("inference_geo")
    if geo is not None and geo not in ("global", "us"):
        raise UnpricedField(
            f"'inference_geo' {geo!r} is not one the gateway can price; use 'global' or 'us'.",
            param="inference_geo",
        )
    long_cache = anthropic_candidate and _has_long_cache(payload)
    if geo != "us" and not long_cache:
        return STANDARD
    return Terms(long_cache_writes=long_cache, us_inference=geo == "us")


def _no_audio(field: str) -> UnpricedField:
    return UnpricedField(
        f"'{field}' asks for audio output, which is billed at audio rates the gateway has no"
        " price for; ask for text only.",
        param=field,
    )


def _has_long_cache(payload: dict[str, Any]) -> bool:
    """Tell whether any cache breakpoint asks for the 1-hour TTL.

    Breakpoints sit at the top level (automatic caching), on system blocks,
    tool definitions, message content blocks and the blocks of tool results.
    """
    if _long_ttl(payload):
        return True
    blocks: list[Any] = []
    for field in ("system", "tools"):
        value = payload.get(field)
        if isinstance(value, list):
            blocks += value
    messages = payload.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        blocks.append(message)
        content = message.get("content")
        if isinstance(content, list):
            blocks += content
    while blocks:
        block = blocks.pop()
        if not isinstance(block, dict):
            continue
        if _long_ttl(block):
            return True
        inner = block.get("content") if block.get("type") == "tool_result" else None
        if isinstance(inner, list):
            blocks += inner
    return False


def _long_ttl(block: dict[str, Any]) -> bool:
    control = block.get("cache_control")
    # Any TTL but the default 5 minutes is priced as the dearest one offered.
    return isinstance(control, dict) and control.get("ttl") not in (None, "5m")


def price_under(price: ModelPrice, terms: Terms, provider: str) -> ModelPrice | None:
    """Return the price a deployment bills a request with these terms; None = unknown.

    Only a priority request can be unknown: the model has no priority rates.
    """
    if terms is STANDARD:
        return price
    if terms.priority and provider in _FORWARDS_SERVICE_TIER:
        if price.priority is None:
            return None
        price = price.priority
    if provider != "anthropic":
        return price  # the Anthropic-only fields do not reach other providers
    if terms.long_cache_writes:
        price = _scaled(price, _long_cache_writes)
    if terms.us_inference:
        price = _scaled(price, _us_inference)
    return price


def no_priority_price() -> UnpricedField:
    """The error for a priority request none of the route's deployments has priority rates for."""
    return UnpricedField(
        "'service_tier' 'priority' is billed at priority rates, and none of this route's"
        " deployments has them; send the request without it.",
        param="service_tier",
    )


def _scaled(price: ModelPrice, rule: Callable[[ModelPrice], ModelPrice]) -> ModelPrice:
    changed = rule(price)
    tier = price.long_context
    if tier is not None:
        changed = replace(
            changed, long_context=LongContextPrice(tier.above_input_tokens, rule(tier.price))
        )
    return changed


def _long_cache_writes(price: ModelPrice) -> ModelPrice:
    return replace(
        price, cache_write=max(price.cache_write, price.input * _LONG_CACHE_WRITE_FACTOR)
    )


def _us_inference(price: ModelPrice) -> ModelPrice:
    num, den = _US_INFERENCE_FACTOR

    def up(rate: int) -> int:
        return -(-rate * num // den)  # rounded up: never below the provider's rate

    return replace(
        price,
        input=up(price.input),
        cached_input=up(price.cached_input),
        cache_write=up(price.cache_write),
        output=up(price.output),
        reasoning=up(price.reasoning),
    )
