"""The scenario grammar: one parser for the header and for model names."""

from __future__ import annotations

import pytest

from gateway.mock_provider.scenarios import (
    PLAIN,
    Scenario,
    ScenarioError,
    parse_header,
    parse_model,
    scenario_for,
)


def test_a_plain_model_name_asks_for_no_scenario() -> None:
    assert parse_model("gpt-mock") == PLAIN
    assert parse_model("mock-gpt-4o") == PLAIN
    assert PLAIN.label == "none"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("mock-slow-250", Scenario(slow_ms=250)),
        ("mock-error-500", Scenario(error_status=500)),
        ("gpt-4o-mock-error-429-retry-after-7", Scenario(error_status=429, retry_after_s=7)),
        ("mock-timeout", Scenario(timeout=True)),
        ("mock-cut-stream", Scenario(cut_stream=True)),
        ("mock-malformed-chunk", Scenario(malformed_chunk=True)),
        ("mock-pause-200-chunks-5", Scenario(pause_ms=200, chunks=5)),
        ("MOCK-Cached-3-Reasoning-4", Scenario(cached_tokens=3, reasoning_tokens=4)),
    ],
)
def test_a_model_name_carries_its_scenario_after_the_mock_marker(
    model: str, expected: Scenario
) -> None:
    assert parse_model(model) == expected


def test_words_before_the_marker_or_glued_to_a_term_pick_nothing() -> None:
    assert parse_model("timeout-mock") == PLAIN
    assert parse_model("mock-superslow-5") == PLAIN
    assert parse_model("mock-chunks-5x") == PLAIN


def test_the_header_spells_the_same_terms_with_colons_or_dashes() -> None:
    assert parse_header("pause:200, chunks:5") == Scenario(pause_ms=200, chunks=5)
    assert parse_header("error-503") == Scenario(error_status=503)
    assert parse_header("cut-stream,malformed-chunk") == Scenario(
        cut_stream=True, malformed_chunk=True
    )


def test_the_header_refuses_unknown_terms_and_numbers_out_of_range() -> None:
    for value in ("explode", "error:200", "chunks:0", "pause"):
        with pytest.raises(ScenarioError):
            parse_header(value)


def test_times_and_counts_are_capped() -> None:
    assert parse_header("slow:999999,chunks:999999999") == Scenario(slow_ms=60_000, chunks=100_000)


def test_the_header_wins_over_the_model_name() -> None:
    assert scenario_for(b"chunks:2", "mock-error-500") == Scenario(chunks=2)
    assert scenario_for(None, "mock-error-500") == Scenario(error_status=500)


def test_the_label_is_canonical_whatever_the_spelling() -> None:
    assert parse_header("chunks-5,pause:200").label == "pause:200,chunks:5"
    assert parse_model("mock-error-429-retry-after-3").label == "error:429,retry-after:3"
