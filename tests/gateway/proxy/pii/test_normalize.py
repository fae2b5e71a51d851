"""Adversarial Unicode is folded for matching, and findings point at the original text."""

from __future__ import annotations

import pytest

from gateway.proxy.pii import detect, normalize

CARD = "4111111111111111"


def full_width(text: str) -> str:
    """Spell ASCII text in full-width forms (written this way to keep the source ASCII)."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"]
)
def test_it_finds_a_card_with_invisible_characters_between_every_digit(invisible: str) -> None:
    text = "pay with " + invisible.join(CARD) + " now"
    [finding] = detect(text)
    assert finding.entity == "CREDIT_CARD"
    assert text[finding.start : finding.end] == invisible.join(CARD)


def test_it_finds_full_width_digits_and_maps_back_to_them() -> None:
    card = full_width(CARD)
    text = "\u30ab\u30fc\u30c9: " + card + "\u3067\u3059"
    [finding] = detect(text)
    assert (finding.entity, text[finding.start : finding.end]) == ("CREDIT_CARD", card)


def test_it_folds_full_width_email_and_unicode_dashes() -> None:
    email = full_width("jane@example.com")
    text = f"mail {email}, ssn 123\u2011\u200b45\u20116789"
    kinds = [(f.entity, text[f.start : f.end]) for f in detect(text)]
    assert kinds == [
        ("EMAIL", email),
        ("US_SSN", "123\u2011\u200b45\u20116789"),
    ]


def test_it_maps_expanded_characters_to_their_whole_original() -> None:
    # The "fi" ligature folds to two letters, the circled one to "1".
    folded = normalize("\ufb01x\u200b\u2460")
    assert folded.text == "fix1"
    assert folded.span(0, 1) == (0, 1)
    assert folded.span(0, 2) == (0, 1)
    assert folded.span(2, 4) == (1, 4)


def test_it_leaves_ascii_untouched_and_unmapped() -> None:
    folded = normalize("plain text 123")
    assert folded.text == "plain text 123"
    assert folded.origin is None
    assert folded.span(6, 10) == (6, 10)


def test_it_survives_lone_surrogates_and_deep_unicode_tricks() -> None:
    tricky = (
        "\ud800 card \udfff"
        + "\u200b".join(full_width("4111-1111-1111-1111"))
        + " \u0301\u0301\u0301 e\u0301 \U0001f600\u200d\U0001f4bb \u202e1234\u202c "
        + "\ufeff" * 50
        + "mail\u00a0me at bob\u200c@\u200cexample\u2024org"
    )
    findings = detect(tricky)
    values = [(f.entity, tricky[f.start : f.end]) for f in findings]
    assert values[0][0] == "CREDIT_CARD"
    assert values[0][1].startswith(full_width("4")) and values[0][1].endswith(full_width("1"))
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(tricky)
