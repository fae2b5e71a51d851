"""What a route should be, as plain values, and the checks every way in (API, dashboard) shares.

The API's serializers and the dashboard's forms turn input into these specs;
gateway.actions checks them here before anything is written, so a rule is
kept once whatever the door.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from gateway import models as m
from gateway.shared import managed_access, ssrf
from gateway.shared.providers_catalog import NEEDS_API_BASE, NEEDS_API_VERSION, PROVIDERS
from tenants.errors import Invalid

# Used with fullmatch: "$" alone would let a trailing newline through.
_ALIAS = re.compile(rf"[A-Za-z0-9._:/-]{{1,{m.ALIAS_MAX_LENGTH}}}")
# Non-negative, no sign, no exponent, at most six decimal places: "2.5", "0.000150".
_PRICE = re.compile(rf"[0-9]{{1,6}}(\.[0-9]{{1,{m.PRICE_DECIMAL_PLACES}}})?")
_API_VERSION = re.compile(r"[A-Za-z0-9._-]{1,40}")
PRICE_QUANTUM = Decimal(1).scaleb(-m.PRICE_DECIMAL_PLACES)
API_KEY_MIN_LENGTH, API_KEY_MAX_LENGTH = 8, 4096


@dataclass(frozen=True)
class PriceSpec:
    input_per_mtok: Decimal
    output_per_mtok: Decimal


@dataclass(frozen=True)
class DeploymentSpec:
    provider: str
    model: str
    api_base: str | None = None
    api_version: str | None = None
    provider_key_id: uuid.UUID | None = None
    weight: int = 1
    quality: int | None = None
    price: PriceSpec | None = None
    timeout_s: float = 600.0
    connect_timeout_s: float = 10.0
    health_check: bool = False


@dataclass(frozen=True)
class RouteSpec:
    strategy: str
    deployments: list[DeploymentSpec] = field(default_factory=list)
    min_quality: int | None = None
    max_attempts: int | None = None
    deadline_s: float | None = None


def clean_alias(alias: str) -> str:
    """Refuse an alias the proxy could not be asked for, or the API could not address."""
    if not _ALIAS.fullmatch(alias):
        raise Invalid(
            "model",
            f"A model alias is 1 to {m.ALIAS_MAX_LENGTH} characters of letters, digits"
            " and . _ : / -",
        )
    # "a//b", "/a" or ".." would be rewritten by HTTP clients in /api/v1/routes/{model}/.
    if any(segment in ("", ".", "..") for segment in alias.split("/")):
        raise Invalid("model", "A model alias may not have empty, '.' or '..' parts around '/'.")
    return alias


def parse_price(value: object) -> Decimal:
    """Read a price in USD per million tokens from a decimal string; raise ValueError."""
    if not isinstance(value, str):
        raise ValueError('A price is a decimal string, e.g. "2.50", never a JSON number.')
    if not _PRICE.fullmatch(value):
        raise ValueError(
            "A price is a non-negative decimal with at most"
            f' {m.PRICE_DECIMAL_PLACES} decimal places, e.g. "0.150000".'
        )
    price = Decimal(value)
    if price > m.PRICE_MAX:
        raise ValueError(f"A price may not exceed {m.PRICE_MAX} USD per million tokens.")
    return price


def _valid_price(price: Decimal) -> bool:
    return (
        price.is_finite()
        and Decimal(0) <= price <= m.PRICE_MAX
        and price == price.quantize(PRICE_QUANTUM)
    )


def check_api_base(url: str, param: str) -> None:
    """Refuse a malformed api_base, or one that reaches our own network unless allowed."""
    allow_private = settings.SELIXES_PRIVATE_UPSTREAMS == "allow"
    try:
        ssrf.check_upstream(url, allow_private=allow_private)
    except ValueError as e:
        raise Invalid(param, str(e)) from e


def _in_bounds(value: float, low: float, high: float, param: str) -> None:
    if not low <= value <= high:
        raise Invalid(param, f"Must be between {low:g} and {high:g}.")


def check_deployment(spec: DeploymentSpec, index: int) -> None:
    """Check one deployment; errors name it as deployments.<index>.<field>."""
    at = f"deployments.{index}"
    if spec.provider not in PROVIDERS:
        raise Invalid(f"{at}.provider", f"Provider must be one of {', '.join(PROVIDERS)}.")
    # The name goes back to clients in the x-selixes-model header: printable
    # ASCII without spaces, or a DEL or non-ASCII byte breaks the paid-for answer.
    if not 1 <= len(spec.model) <= 200 or not all(0x21 <= ord(c) <= 0x7E for c in spec.model):
        raise Invalid(
            f"{at}.model",
            "The provider's model name is 1 to 200 printable ASCII characters, without spaces.",
        )
    if spec.provider in NEEDS_API_BASE and not spec.api_base:
        raise Invalid(f"{at}.api_base", f"A {spec.provider} deployment needs an api_base.")
    if spec.provider in NEEDS_API_VERSION and not spec.api_version:
        raise Invalid(f"{at}.api_version", "An azure deployment needs an api_version.")
    if spec.api_version is not None and not _API_VERSION.fullmatch(spec.api_version):
        raise Invalid(f"{at}.api_version", "An api_version looks like 2024-10-21.")
    _in_bounds(spec.weight, m.WEIGHT_MIN, m.WEIGHT_MAX, f"{at}.weight")
    if spec.quality is not None:
        _in_bounds(spec.quality, m.QUALITY_MIN, m.QUALITY_MAX, f"{at}.quality")
    _in_bounds(spec.timeout_s, m.TIMEOUT_MIN_S, m.TIMEOUT_MAX_S, f"{at}.timeout_s")
    _in_bounds(
        spec.connect_timeout_s,
        m.CONNECT_TIMEOUT_MIN_S,
        m.CONNECT_TIMEOUT_MAX_S,
        f"{at}.connect_timeout_s",
    )
    if spec.price is not None:
        for name in ("input_per_mtok", "output_per_mtok"):
            if not _valid_price(getattr(spec.price, name)):
                raise Invalid(f"{at}.price.{name}", "Not a valid price.")
    if not isinstance(spec.health_check, bool):
        raise Invalid(f"{at}.health_check", "Must be true or false.")
    if spec.api_base is not None:
        check_api_base(spec.api_base, f"{at}.api_base")
    refused = managed_access.refusal(
        spec.provider, spec.api_base, spec.provider_key_id, spec.price is not None
    )
    if refused is not None:
        raise Invalid(f"{at}.{refused.field}", refused.message)


def check_route(spec: RouteSpec) -> None:
    """Check a whole route before it is written; DNS lookups happen here, outside transactions."""
    if spec.strategy not in m.Strategy.values:
        raise Invalid("strategy", f"Strategy must be one of {', '.join(m.Strategy.values)}.")
    if spec.min_quality is not None:
        _in_bounds(spec.min_quality, m.QUALITY_MIN, m.QUALITY_MAX, "min_quality")
    if spec.max_attempts is not None:
        _in_bounds(spec.max_attempts, m.MAX_ATTEMPTS_MIN, m.MAX_ATTEMPTS_MAX, "max_attempts")
    if spec.deadline_s is not None:
        if not math.isfinite(spec.deadline_s):
            raise Invalid("deadline_s", "Must be a number of seconds.")
        _in_bounds(spec.deadline_s, m.DEADLINE_MIN_S, m.DEADLINE_MAX_S, "deadline_s")
    if not spec.deployments:
        raise Invalid("deployments", "A route needs at least one deployment.")
    if len(spec.deployments) > m.MAX_DEPLOYMENTS:
        raise Invalid("deployments", f"A route has at most {m.MAX_DEPLOYMENTS} deployments.")
    for index, deployment in enumerate(spec.deployments):
        check_deployment(deployment, index)


def clean_api_key(api_key: str) -> str:
    """Refuse a provider key that could not be sent in an HTTP header as it is."""
    api_key = api_key.strip()
    if not API_KEY_MIN_LENGTH <= len(api_key) <= API_KEY_MAX_LENGTH:
        raise Invalid(
            "api_key",
            f"A provider key is {API_KEY_MIN_LENGTH} to {API_KEY_MAX_LENGTH} characters.",
        )
    if not all(33 <= ord(c) <= 126 for c in api_key):
        raise Invalid("api_key", "A provider key is printable ASCII without spaces.")
    return api_key
