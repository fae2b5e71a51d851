"""A model's price and the two costs the budget engine needs: actual and worst case.

Prices are integer micro-USD per million tokens (gateway.shared.money), which
is pico-USD per token: tokens x price is an exact integer in pico-USD. A cost
adds those products up and rounds up to nano-USD once, at the end, so the
actual cost of any usage within a request's bounds can never round above the
worst case reserved for it (rounding every part separately could).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.proxy.providers.base import Usage
from gateway.shared.money import token_cost_nano


@dataclass(frozen=True)
class LongContextPrice:
    """The prices of a whole request whose prompt is longer than `above_input_tokens`.

    Several providers bill every token of such a request at a higher rate
    (GPT-5.4: over 272K prompt tokens; Gemini 2.5 Pro: over 200K).
    """

    above_input_tokens: int
    price: ModelPrice


@dataclass(frozen=True)
class ModelPrice:
    """Integer micro-USD per million tokens for each kind of token, plus the model's limits."""

    input: int
    cached_input: int
    cache_write: int
    output: int
    reasoning: int
    # The most output tokens the model produces for one request; None = unknown.
    max_output_tokens: int | None = None
    # The longest prompt the model accepts (its context window); a provider refuses,
    # and does not bill, a longer one. None = unknown.
    max_input_tokens: int | None = None
    long_context: LongContextPrice | None = None
    # The rates of OpenAI's priority processing (`service_tier: "priority"`); None =
    # not known for this model, so such a request cannot be priced.
    priority: ModelPrice | None = None

    def for_prompt(self, input_tokens: int) -> ModelPrice:
        """Return the prices that apply to a request with this many prompt tokens."""
        tier = self.long_context
        if tier is not None and input_tokens > tier.above_input_tokens:
            return tier.price
        return self

    def input_side_max(self) -> int:
        return max(self.input, self.cached_input, self.cache_write)

    def output_side_max(self) -> int:
        return max(self.output, self.reasoning)


def _pico_to_nano(pico_usd: int) -> int:
    # token_cost_nano(n, p) is ceil(n x p / 1000): with p = 1 it rounds pico-USD up to nano-USD.
    return token_cost_nano(pico_usd, 1)


def actual_cost_nano(price: ModelPrice, usage: Usage) -> int:
    """Return what a request with this usage costs, in nano-USD, rounded up once.

    The counts follow Usage's semantics (cached and cache-write tokens are part
    of input_tokens, reasoning tokens part of output_tokens); an inconsistent
    report is clamped to them, so no token is ever charged twice and no more
    tokens are charged than input_tokens + output_tokens.
    """
    input_tokens = max(usage.input_tokens, 0)
    output_tokens = max(usage.output_tokens, 0)
    cached = min(max(usage.cached_input_tokens, 0), input_tokens)
    cache_write = min(max(usage.cache_write_input_tokens, 0), input_tokens - cached)
    uncached = input_tokens - cached - cache_write
    reasoning = min(max(usage.reasoning_tokens, 0), output_tokens)
    visible = output_tokens - reasoning

    rates = price.for_prompt(input_tokens)
    pico = (
        uncached * rates.input
        + cached * rates.cached_input
        + cache_write * rates.cache_write
        + reasoning * rates.reasoning
        + visible * rates.output
    )
    return _pico_to_nano(pico)


def worst_case_cost_nano(price: ModelPrice, input_token_bound: int, max_output_tokens: int) -> int:
    """Return an upper bound of actual_cost_nano over every usage the request can produce.

    That is every usage with input_tokens <= min(input_token_bound, the model's
    context window) and output_tokens <= max_output_tokens: each token is
    priced at the dearest rate of its side, under the long-context prices too
    when the prompt may be long enough to reach them.
    """
    if input_token_bound < 0 or max_output_tokens < 0:
        raise ValueError("Token bounds are non-negative.")
    prompt = input_token_bound
    if price.max_input_tokens is not None:
        # A longer prompt is refused by the provider, so it is never billed.
        prompt = min(prompt, price.max_input_tokens)
    input_rate = price.input_side_max()
    output_rate = price.output_side_max()
    tier = price.long_context
    if tier is not None and prompt > tier.above_input_tokens:
        input_rate = max(input_rate, tier.price.input_side_max())
        output_rate = max(output_rate, tier.price.output_side_max())
    return _pico_to_nano(prompt * input_rate + max_output_tokens * output_rate)
