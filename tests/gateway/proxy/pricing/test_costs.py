"""Actual and worst-case costs: exact integers, and the reservation always covers the settlement."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.pricing import (
    LongContextPrice,
    ModelPrice,
    actual_cost_nano,
    load_price_table,
    worst_case_cost_nano,
)
from gateway.proxy.providers.base import Usage

TABLE = load_price_table()
# Up to 100,000 USD per million tokens, in micro-USD.
rates = st.integers(min_value=0, max_value=100_000_000_000)
token_counts = st.integers(min_value=0, max_value=3_000_000)


@st.composite
def model_prices(draw: st.DrawFn) -> ModelPrice:
    base = ModelPrice(
        input=draw(rates),
        cached_input=draw(rates),
        cache_write=draw(rates),
        output=draw(rates),
        reasoning=draw(rates),
        max_output_tokens=draw(st.none() | st.integers(1, 500_000)),
        max_input_tokens=draw(st.none() | st.integers(1, 3_000_000)),
    )
    if draw(st.booleans()):
        return base
    # Long-context prices are at least the base ones, as every provider's are.
    tier = ModelPrice(
        input=base.input + draw(rates),
        cached_input=base.cached_input + draw(rates),
        cache_write=base.cache_write + draw(rates),
        output=base.output + draw(rates),
        reasoning=base.reasoning + draw(rates),
    )
    above = draw(st.integers(0, 2_000_000))
    return dataclasses.replace(base, long_context=LongContextPrice(above, tier))


@st.composite
def usages_within(draw: st.DrawFn, input_bound: int, output_bound: int) -> Usage:
    input_tokens = draw(st.integers(0, input_bound))
    output_tokens = draw(st.integers(0, output_bound))
    # Subsets as reported, sometimes inconsistent (a provider's bug must not overcharge).
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=draw(st.integers(0, 2 * input_tokens + 1)),
        cache_write_input_tokens=draw(st.integers(0, 2 * input_tokens + 1)),
        reasoning_tokens=draw(st.integers(0, 2 * output_tokens + 1)),
    )


@given(st.data(), model_prices(), token_counts, token_counts)
def test_the_worst_case_covers_every_usage_within_the_bounds(
    data: st.DataObject, price: ModelPrice, input_bound: int, output_bound: int
) -> None:
    reachable_input = input_bound
    if price.max_input_tokens is not None:
        reachable_input = min(input_bound, price.max_input_tokens)
    usage = data.draw(usages_within(reachable_input, output_bound))
    assert actual_cost_nano(price, usage) <= worst_case_cost_nano(price, input_bound, output_bound)


@given(model_prices(), token_counts, token_counts, token_counts, token_counts)
def test_more_tokens_never_cost_less(
    price: ModelPrice, input_tokens: int, output_tokens: int, more_in: int, more_out: int
) -> None:
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    bigger = Usage(input_tokens=input_tokens + more_in, output_tokens=output_tokens + more_out)
    assert actual_cost_nano(price, usage) <= actual_cost_nano(price, bigger)
    assert worst_case_cost_nano(price, input_tokens, output_tokens) <= worst_case_cost_nano(
        price, input_tokens + more_in, output_tokens + more_out
    )


@given(model_prices(), token_counts, token_counts, token_counts, token_counts, token_counts)
def test_costs_are_integers_of_nano_usd(
    price: ModelPrice, inp: int, out: int, cached: int, written: int, reasoning: int
) -> None:
    usage = Usage(inp, out, cached, reasoning, written)
    for cost in (actual_cost_nano(price, usage), worst_case_cost_nano(price, inp, out)):
        assert type(cost) is int
        assert cost >= 0


@given(token_counts, rates)
def test_a_cost_is_rounded_up_once_to_the_nano_usd(tokens: int, rate: int) -> None:
    price = ModelPrice(input=rate, cached_input=rate, cache_write=rate, output=0, reasoning=0)
    pico = tokens * rate
    assert actual_cost_nano(price, Usage(input_tokens=tokens)) == -(-pico // 1000)


def test_one_million_gpt_4o_tokens_cost_the_list_price_exactly() -> None:
    price = TABLE.lookup("openai", "gpt-4o")
    assert price is not None
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert actual_cost_nano(price, usage) == (2_500_000_000 + 10_000_000_000)


def test_cached_and_cache_write_tokens_are_billed_at_their_own_rates() -> None:
    price = TABLE.lookup("anthropic", "claude-sonnet-4-6")
    assert price is not None
    usage = Usage(
        input_tokens=1_000_000,
        cached_input_tokens=600_000,
        cache_write_input_tokens=300_000,
        output_tokens=1_000_000,
        reasoning_tokens=400_000,
    )
    # 100K uncached at $3, 600K cached at $0.30, 300K written at $3.75, 1M out at $15.
    assert actual_cost_nano(price, usage) == 300_000_000 + 180_000_000 + 1_125_000_000 + (
        15_000_000_000
    )


def test_a_long_prompt_is_billed_whole_at_the_long_context_rate() -> None:
    price = TABLE.lookup("openai", "gpt-5.4")
    assert price is not None
    short = actual_cost_nano(price, Usage(input_tokens=272_000))
    long = actual_cost_nano(price, Usage(input_tokens=272_001))
    assert short == 272_000 * 2_500  # $2.50 per Mtok is 2,500 nano-USD per token
    assert long == 272_001 * 5_000
    # The worst case of a request that may reach the tier is priced at the tier.
    assert worst_case_cost_nano(price, 300_000, 0) == 300_000 * 5_000


def test_the_worst_case_stops_at_the_context_window() -> None:
    price = TABLE.lookup("openai", "gpt-4o-mini")
    assert price is not None and price.max_input_tokens == 128_000
    assert worst_case_cost_nano(price, 10_000_000, 0) == worst_case_cost_nano(price, 128_000, 0)


def test_every_listed_price_is_an_integer() -> None:
    for provider, names in TABLE.providers().items():
        for name in names:
            price = TABLE.lookup(provider, name)
            assert price is not None
            tier = price.long_context.price if price.long_context else price
            for value in (*dataclasses.astuple(price)[:5], *dataclasses.astuple(tier)[:5]):
                assert type(value) is int and value >= 0
