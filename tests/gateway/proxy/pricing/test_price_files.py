"""The shipped price list and the operator's SELIXES_PRICES file: loading, merging, refusing."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys

import pytest

from gateway.proxy.config import ProxySettings
from gateway.proxy.pricing import (
    SHIPPED_PRICES,
    PriceTable,
    PricingError,
    load_price_table,
    price_table,
)
from gateway.proxy.pricing.schema import read_price_file
from gateway.shared.providers_catalog import PROVIDERS
from tests.gateway.proxy.pricing.conftest import WriteFile

SELF_HOSTED = ("vllm", "ollama", "openai_compatible")
MAJOR = ("openai", "anthropic", "gemini", "mistral", "deepseek", "xai")


def test_the_shipped_list_loads_and_prices_every_major_provider() -> None:
    table = load_price_table()
    models = table.providers()
    for provider in MAJOR:
        assert models.get(provider), provider
    for provider in SELF_HOSTED:
        assert provider not in models


def test_every_shipped_entry_says_where_and_when_its_price_was_read() -> None:
    for models in read_price_file(SHIPPED_PRICES).values():
        for entry in models.values():
            assert entry.source.strip()
            assert datetime.date.fromisoformat(entry.checked) <= datetime.date.today()


def test_the_shipped_list_quotes_every_price() -> None:
    # An unquoted price would be read as a YAML float; the loader refuses those,
    # and this keeps the file honest line by line too.
    price_line = re.compile(
        r"^\s*(input|output|cached_input|cache_write|reasoning):\s*(?P<value>\S+)\s*$"
    )
    for line in SHIPPED_PRICES.read_text(encoding="utf-8").splitlines():
        found = price_line.match(line)
        if found:
            assert found["value"].startswith('"'), line


def test_known_list_prices_are_read_exactly() -> None:
    table = load_price_table()
    gpt_4o = table.lookup("openai", "gpt-4o")
    assert gpt_4o is not None
    assert (gpt_4o.input, gpt_4o.cached_input, gpt_4o.output) == (2_500_000, 1_250_000, 10_000_000)
    haiku = table.lookup("anthropic", "claude-haiku-4-5")
    assert haiku is not None
    # Anthropic bills 5-minute cache writes at 1.25x input.
    assert haiku.cache_write * 4 == haiku.input * 5
    embedding = table.lookup("openai", "text-embedding-3-small")
    assert embedding is not None and embedding.input == 20_000 and embedding.output == 0


def test_a_dated_name_finds_its_family_only_where_the_list_allows_it() -> None:
    table = load_price_table()
    assert table.lookup("openai", "gpt-4o-2024-08-06") == table.lookup("openai", "gpt-4o")
    # An explicit entry wins: this snapshot is priced differently from gpt-4o.
    old = table.lookup("openai", "gpt-4o-2024-05-13")
    assert old is not None and old.input == 5_000_000
    # gpt-4o is not marked dated: an unknown snapshot stays unknown (fail closed).
    assert table.lookup("openai", "gpt-4o-2031-01-01") is None
    # claude-opus-4-8 is: any 8-digit snapshot of it is the same model.
    assert table.lookup("anthropic", "claude-opus-4-8-20260601") == table.lookup(
        "anthropic", "claude-opus-4-8"
    )


def test_gemini_model_names_may_carry_the_models_prefix() -> None:
    table = load_price_table()
    assert table.lookup("gemini", "models/gemini-2.5-flash") == table.lookup(
        "gemini", "gemini-2.5-flash"
    )


def test_a_scheduled_price_change_applies_from_its_day() -> None:
    table = load_price_table()
    before = table.lookup("gemini", "gemini-4-argon", datetime.date(2026, 11, 30))
    after = table.lookup("gemini", "gemini-4-argon", datetime.date(2026, 12, 1))
    assert before is not None and after is not None
    assert (before.input, after.input) == (2_000_000, 4_000_000)


def test_an_extra_file_adds_models_and_replaces_shipped_ones(price_file: WriteFile) -> None:
    extra = price_file(
        """
        providers:
          openai:
            source: "our contract with OpenAI"
            checked: "2026-11-01"
            models:
              gpt-4o:
                input: "2.00"
                output: "8.00"
          vllm:
            source: "our GPU bill"
            checked: 2026-11-02
            models:
              llama-3.3-70b:
                input: "0.10"
                output: "0.10"
                max_output_tokens: 8192
        """
    )
    table = load_price_table(str(extra))
    gpt_4o = table.lookup("openai", "gpt-4o")
    assert gpt_4o is not None and (gpt_4o.input, gpt_4o.output) == (2_000_000, 8_000_000)
    # The replacement is whole: its cached rate defaults to its input, the shipped aliases are gone.
    assert gpt_4o.cached_input == 2_000_000
    assert table.lookup("openai", "gpt-4o-2024-08-06") is None
    # Untouched shipped entries stay.
    assert table.lookup("openai", "gpt-4o-mini") == load_price_table().lookup(
        "openai", "gpt-4o-mini"
    )
    llama = table.lookup("vllm", "llama-3.3-70b")
    assert llama is not None and llama.max_output_tokens == 8192


def test_an_extra_entry_named_like_a_shipped_alias_wins_over_the_alias(
    price_file: WriteFile,
) -> None:
    extra = price_file(
        """
        providers:
          openai:
            source: "test"
            checked: "2026-11-01"
            models:
              gpt-4o-2024-11-20:
                input: "9.00"
                output: "9.00"
        """
    )
    table = load_price_table(str(extra))
    snapshot = table.lookup("openai", "gpt-4o-2024-11-20")
    assert snapshot is not None and snapshot.input == 9_000_000


@pytest.mark.parametrize(
    ("model_yaml", "message"),
    [
        ('{input: 2.50, output: "10.00"}', "quoted strings"),
        ('{input: "2.50", output: 10}', "quoted strings"),
        ('{input: "0.1234567", output: "1.00"}', "at most 6"),
        ('{input: "-1.00", output: "1.00"}', "non-negative"),
        ('{input: "1.00", output: "1.00", colour: blue}', "unknown field(s) colour"),
        ('{output: "1.00"}', "'input' is required"),
        ('{input: "1.00"}', "'output' is required"),
        ('{input: "1.00", output: "1.00", max_output_tokens: -5}', "positive integer"),
        ('{input: "1.00", output: "1.00", max_output_tokens: true}', "positive integer"),
        ('{input: "1.00", output: "1.00", input: "2.00"}', "duplicate key 'input'"),
        ('{input: "1", output: "1", long_context: {input: "2", output: "2"}}', "above_input"),
        ('{input: "1.00", output: "1.00", changes: [{input: "2.00"}]}', "'from'"),
    ],
)
def test_a_broken_extra_file_is_refused_naming_the_file_and_the_entry(
    price_file: WriteFile, model_yaml: str, message: str
) -> None:
    extra = price_file(
        f"""
        providers:
          openai:
            source: "test"
            checked: "2026-11-01"
            models:
              my-model: {model_yaml}
        """
    )
    with pytest.raises(PricingError) as refused:
        load_price_table(str(extra))
    text = str(refused.value)
    assert str(extra) in text
    assert message in text
    if "duplicate" not in message:
        assert "providers.openai.models.my-model" in text


def test_an_unknown_provider_is_refused(price_file: WriteFile) -> None:
    extra = price_file(
        """
        providers:
          opanai:
            source: "typo"
            checked: "2026-11-01"
            models:
              gpt-4o: {input: "1.00", output: "1.00"}
        """
    )
    with pytest.raises(PricingError, match=r"providers\.opanai: unknown provider"):
        load_price_table(str(extra))


def test_an_entry_without_source_or_date_is_refused(price_file: WriteFile) -> None:
    extra = price_file(
        """
        providers:
          vllm:
            models:
              local: {input: "1.00", output: "1.00"}
        """
    )
    with pytest.raises(PricingError, match="'source' and 'checked' are required"):
        load_price_table(str(extra))


def test_one_name_for_two_entries_is_refused(price_file: WriteFile) -> None:
    extra = price_file(
        """
        providers:
          vllm:
            source: "test"
            checked: "2026-11-01"
            models:
              a: {input: "1.00", output: "1.00", aliases: [b]}
              b: {input: "2.00", output: "2.00"}
        """
    )
    with pytest.raises(PricingError, match="already used by 'a'"):
        load_price_table(str(extra))


def test_a_missing_or_malformed_extra_file_is_refused(price_file: WriteFile) -> None:
    with pytest.raises(PricingError, match="no such file"):
        load_price_table("/nonexistent/prices.yaml")
    with pytest.raises(PricingError, match="not valid YAML"):
        load_price_table(str(price_file("providers: [unclosed")))
    with pytest.raises(PricingError, match="one key, 'providers'"):
        load_price_table(str(price_file("models: {}")))


def test_the_process_wide_table_reads_selixes_prices_and_fails_at_load(
    price_file: WriteFile,
) -> None:
    broken = price_file(
        """
        providers:
          vllm:
            source: "test"
            checked: "2026-11-01"
            models:
              local: {input: 0.5, output: "1.00"}
        """
    )
    environ = {"REDIS_URL": "redis://localhost/0", "SELIXES_HASH_KEY": "k"}
    settings = ProxySettings.from_env({**environ, "SELIXES_PRICES": str(broken)})
    with pytest.raises(PricingError, match=r"local\.input: prices are quoted strings"):
        price_table(settings.extra_prices)


def test_every_shipped_provider_is_one_the_gateway_knows() -> None:
    assert set(load_price_table().providers()) <= set(PROVIDERS)


def test_an_empty_table_knows_nothing() -> None:
    assert PriceTable({}).lookup("openai", "gpt-4o") is None


def test_pricing_and_token_bounds_never_import_django() -> None:
    script = (
        "import sys, gateway.proxy.pricing, gateway.proxy.budget.input_bound;"
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0


def test_a_scheduled_change_restates_the_whole_price(price_file: WriteFile) -> None:
    extra = price_file(
        """
        providers:
          vllm:
            source: "test"
            checked: "2026-11-01"
            models:
              local:
                input: "1.00"
                output: "2.00"
                max_output_tokens: 1000
                changes: [{from: "2027-01-01", input: "3.00", output: "4.00"}]
        """
    )
    later = load_price_table(str(extra)).lookup("vllm", "local", datetime.date(2027, 1, 1))
    assert later is not None
    # Rates it does not name follow its own input and output, not the old ones.
    assert (later.cached_input, later.cache_write, later.reasoning) == (
        3_000_000,
        3_000_000,
        4_000_000,
    )
    assert later.max_output_tokens == 1000


def test_a_change_to_a_model_with_long_context_prices_must_restate_them(
    price_file: WriteFile,
) -> None:
    extra = price_file(
        """
        providers:
          vllm:
            source: "test"
            checked: "2026-11-01"
            models:
              local:
                input: "1.00"
                output: "2.00"
                long_context: {above_input_tokens: 1000, input: "2.00", output: "4.00"}
                changes: [{from: "2027-01-01", input: "3.00", output: "4.00"}]
        """
    )
    with pytest.raises(PricingError, match="restate them"):
        load_price_table(str(extra))
