"""Request fields that raise the rate: read from requests, applied to prices, set in files."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.proxy.errors import UnpricedField
from gateway.proxy.pricing import ModelPrice, PricingError, load_price_table
from gateway.proxy.pricing.request_terms import STANDARD, Terms, price_under, request_terms
from gateway.proxy.pricing.schema import read_price_file
from tests.gateway.proxy.pricing.conftest import WriteFile

ANTHROPIC: list[Any] = [{"provider": "anthropic"}]
OPENAI: list[Any] = [{"provider": "openai"}]
FLAT = ModelPrice(
    input=1_000_000,
    cached_input=100_000,
    cache_write=1_250_000,
    output=5_000_000,
    reasoning=5_000_000,
)


def test_an_ordinary_request_has_standard_terms_and_keeps_its_price() -> None:
    terms = request_terms({"messages": [{"role": "user", "content": "hi"}]}, "openai", ANTHROPIC)
    assert terms is STANDARD
    assert price_under(FLAT, terms, "openai") is FLAT


def test_it_prices_priority_from_the_list_and_refuses_a_model_without_priority_rates() -> None:
    table = load_price_table()
    gpt_4o = table.lookup("openai", "gpt-4o")
    assert gpt_4o is not None and gpt_4o.priority is not None
    terms = request_terms({"service_tier": "priority"}, "openai", OPENAI)
    assert price_under(gpt_4o, terms, "openai") == gpt_4o.priority
    assert (gpt_4o.priority.input, gpt_4o.priority.output) == (4_250_000, 17_000_000)
    assert price_under(FLAT, terms, "openai_compatible") is None
    # Translated for Anthropic, service_tier is not sent: the standard rate is the bill.
    assert price_under(FLAT, terms, "anthropic") is FLAT


def test_it_doubles_the_input_rate_for_one_hour_cache_writes_on_anthropic_only() -> None:
    payload = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [{"type": "text", "text": "x", "cache_control": {"ttl": "1h"}}],
                    }
                ],
            }
        ]
    }
    terms = request_terms(payload, "anthropic", ANTHROPIC)
    assert terms == Terms(long_cache_writes=True)
    assert price_under(FLAT, terms, "anthropic") == ModelPrice(
        1_000_000, 100_000, 2_000_000, 5_000_000, 5_000_000
    )
    assert price_under(FLAT, terms, "openai") == FLAT
    assert request_terms(payload, "anthropic", OPENAI) is STANDARD  # no Anthropic candidate


def test_us_only_inference_raises_every_rate_by_a_tenth_rounded_up() -> None:
    terms = request_terms({"inference_geo": "us"}, "anthropic", ANTHROPIC)
    price = price_under(ModelPrice(3, 1, 4, 15, 15), terms, "anthropic")
    assert price == ModelPrice(4, 2, 5, 17, 17)


@pytest.mark.parametrize(
    ("dialect", "payload", "param"),
    [
        ("openai", {"modalities": ["text", "audio"]}, "modalities"),
        ("openai", {"audio": {"voice": "alloy"}}, "audio"),
        ("openai", {"service_tier": "turbo"}, "service_tier"),
        ("anthropic", {"speed": "fast"}, "speed"),
        ("anthropic", {"inference_geo": "eu"}, "inference_geo"),
        ("anthropic", {"service_tier": "priority"}, "service_tier"),
    ],
)
def test_it_refuses_fields_no_price_covers(
    dialect: str, payload: dict[str, object], param: str
) -> None:
    with pytest.raises(UnpricedField) as refused:
        request_terms(payload, dialect, ANTHROPIC)
    assert refused.value.param == param
    assert refused.value.status == 400


def test_a_price_file_must_say_where_its_priority_rates_come_from(
    price_file: WriteFile,
) -> None:
    path = price_file(
        """\
        providers:
          openai:
            source: "a page"
            checked: "2026-12-01"
            models:
              m:
                input: "1.00"
                output: "2.00"
                priority: {input: "2.00", output: "4.00"}
        """
    )
    with pytest.raises(PricingError, match=r"priority: 'source' and 'checked' are required"):
        read_price_file(path)
