"""Which price a deployment gets: its override, else the price list, else the org's default."""

from __future__ import annotations

import pytest

from gateway.proxy.errors import MisconfiguredDeployment
from gateway.proxy.pricing import ModelPrice, load_price_table, price_for
from gateway.shared.snapshot import BudgetDefaults, DeploymentEntry, PriceEntry

TABLE = load_price_table()


def deployment(
    provider: str, model: str, price: PriceEntry | None = None, key_id: str | None = None
) -> DeploymentEntry:
    """A deployment; with no key_id a hosted provider is served by the platform's key."""
    return {
        "id": f"alias#{model}",
        "provider": provider,
        "model": model,
        "api_base": None,
        "api_version": None,
        "provider_key_id": key_id,
        "weight": 1,
        "quality": None,
        "price": price,
        "timeout_s": 60.0,
        "connect_timeout_s": 5.0,
    }


def defaults(price: PriceEntry | None = None, max_output: int | None = None) -> BudgetDefaults:
    return {"timezone": "UTC", "default_price": price, "default_max_output_tokens": max_output}


def test_a_listed_model_gets_the_list_price() -> None:
    price = price_for(deployment("openai", "gpt-4o-mini"), defaults(), TABLE)
    assert price == TABLE.lookup("openai", "gpt-4o-mini")


def test_the_deployment_override_wins_over_the_list() -> None:
    override: PriceEntry = {"input_per_mtok": "1.000001", "output_per_mtok": "3"}
    byok = deployment("openai", "gpt-4o-mini", override, key_id="their-key")
    price = price_for(byok, defaults(), TABLE)
    assert price is not None
    assert (price.input, price.output) == (1_000_001, 3_000_000)


def test_on_the_platform_key_a_tenant_price_is_ignored() -> None:
    """A route saved before overrides were refused must not make the platform's key free."""
    free: PriceEntry = {"input_per_mtok": "0", "output_per_mtok": "0"}
    price = price_for(deployment("openai", "gpt-4o-mini", free), defaults(free), TABLE)
    assert price == TABLE.lookup("openai", "gpt-4o-mini")


def test_on_the_platform_key_an_unlisted_model_ignores_the_org_default() -> None:
    free: PriceEntry = {"input_per_mtok": "0", "output_per_mtok": "0"}
    assert price_for(deployment("openai", "gpt-9-turbo"), defaults(free), TABLE) is None
    byok = deployment("openai", "gpt-9-turbo", key_id="their-key")
    assert price_for(byok, defaults(free), TABLE) is not None


def test_an_override_bills_cached_and_cache_write_tokens_at_input_and_reasoning_at_output() -> None:
    override: PriceEntry = {"input_per_mtok": "0.20", "output_per_mtok": "0.80"}
    price = price_for(deployment("vllm", "my-llama", override), None, TABLE)
    assert price == ModelPrice(
        input=200_000, cached_input=200_000, cache_write=200_000, output=800_000, reasoning=800_000
    )


def test_an_override_keeps_the_limits_the_list_knows() -> None:
    override: PriceEntry = {"input_per_mtok": "1", "output_per_mtok": "1"}
    price = price_for(deployment("openai", "gpt-4o", override, key_id="their-key"), None, TABLE)
    assert price is not None
    assert (price.max_output_tokens, price.max_input_tokens) == (16384, 128000)
    assert price.long_context is None


def test_an_unlisted_model_falls_back_to_the_org_default_price() -> None:
    org_default: PriceEntry = {"input_per_mtok": "5", "output_per_mtok": "15"}
    price = price_for(deployment("ollama", "qwen3:8b"), defaults(org_default), TABLE)
    assert price is not None and (price.input, price.output) == (5_000_000, 15_000_000)
    assert price.max_output_tokens is None


def test_the_list_wins_over_the_org_default() -> None:
    org_default: PriceEntry = {"input_per_mtok": "0", "output_per_mtok": "0"}
    price = price_for(deployment("anthropic", "claude-opus-4-8"), defaults(org_default), TABLE)
    assert price == TABLE.lookup("anthropic", "claude-opus-4-8")


def test_an_unknown_model_without_default_is_unknown() -> None:
    assert price_for(deployment("ollama", "qwen3:8b"), defaults(), TABLE) is None
    assert price_for(deployment("openai", "gpt-9-turbo"), None, TABLE) is None


def test_self_hosted_and_azure_models_have_no_list_price() -> None:
    for provider in ("vllm", "ollama", "openai_compatible", "azure"):
        assert price_for(deployment(provider, "gpt-4o"), None, TABLE) is None


@pytest.mark.parametrize("bad", ["1.5e3", "-1", "0.0000001", "", "abc"])
def test_a_malformed_override_is_a_misconfigured_deployment(bad: str) -> None:
    override: PriceEntry = {"input_per_mtok": bad, "output_per_mtok": "1"}
    with pytest.raises(MisconfiguredDeployment, match="invalid price"):
        price_for(deployment("vllm", "m", override), None, TABLE)
