"""Overlapping findings resolve to one span."""

from __future__ import annotations

from gateway.proxy.pii import Finding, detect
from gateway.proxy.pii.spans import resolve_overlaps


def test_the_more_specific_type_wins_an_overlap() -> None:
    findings = [
        Finding("PHONE", 0, 14, "phonenumbers"),
        Finding("CREDIT_CARD", 2, 18, "luhn"),
        Finding("US_DRIVER_LICENSE", 16, 25, "license_context"),
    ]
    assert resolve_overlaps(findings) == [Finding("CREDIT_CARD", 2, 18, "luhn")]


def test_the_longer_span_wins_among_equals_and_adjacent_spans_both_stay() -> None:
    findings = [
        Finding("EU_NATIONAL_ID", 5, 10, "a"),
        Finding("EU_NATIONAL_ID", 3, 12, "b"),
        Finding("EU_NATIONAL_ID", 12, 20, "c"),
        Finding("IP_ADDRESS", 0, 3, "ipv4"),
    ]
    assert [f.detector for f in resolve_overlaps(findings)] == ["ipv4", "b", "c"]


def test_empty_spans_are_dropped() -> None:
    assert resolve_overlaps([Finding("IBAN", 4, 4, "iban_mod97")]) == []


def test_an_email_with_digits_is_one_email_not_a_phone() -> None:
    text = "reach 4155552671@example.com"
    assert [(f.entity, text[f.start : f.end]) for f in detect(text)] == [
        ("EMAIL", "4155552671@example.com")
    ]


def test_a_card_is_not_also_reported_as_a_phone_or_passport() -> None:
    text = "passport 4111111111111111"
    assert [f.entity for f in detect(text)] == ["CREDIT_CARD"]
