"""Properties over arbitrary text, and bounded work on enormous adversarial input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.proxy.pii import detect

CARD = "4111111111111111"
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]

pii_ish = st.sampled_from(
    [
        CARD,
        "4111 1111 1111 1111",
        "123-45-6789",
        "jane@example.com",
        "(415) 555-2671",
        "+44 20 7946 0958",
        "192.168.0.1",
        "::1",
        "DE89 3704 0044 0532 0130 00",
        "passport 123456789",
        "\uff11\uff12\uff13",  # full-width 123
        "\u200b",
        "\ud800",
        " ",
        "-",
        ".",
        "@",
        ":",
    ]
)
texts = st.lists(st.one_of(pii_ish, st.text(max_size=20)), max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_findings_never_overlap_and_lie_within_the_text(text: str) -> None:
    findings = detect(text)
    previous_end = 0
    for finding in findings:
        assert previous_end <= finding.start < finding.end <= len(text)
        previous_end = finding.end


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 16), st.sampled_from(INVISIBLES)), max_size=10),
    st.text(alphabet="abc ,.", max_size=10),
    st.text(alphabet="abc ,.", max_size=10),
)
def test_invisible_characters_inside_a_card_never_hide_it(
    insertions: list[tuple[int, str]], before: str, after: str
) -> None:
    card = CARD
    for position, invisible in sorted(insertions, reverse=True):
        card = card[:position] + invisible + card[position:]
    text = f"{before} {card} {after}"
    cards = [text[f.start : f.end] for f in detect(text) if f.entity == "CREDIT_CARD"]
    assert len(cards) == 1
    assert "".join(char for char in cards[0] if char.isdigit()) == CARD


def test_a_megabyte_of_near_matches_completes() -> None:
    chunks = [
        "4111 1111 1111 111",
        "1" * 40,
        "123-45-678",
        "1.2.3.",
        "a@b.",
        "::",
        "0x" + "f" * 39,
        "+1 (",
        "DE89 3704 ",
        "\u200b\uff11",
        "passport ",
        "9" * 7 + "-",
    ]
    text = ""
    index = 0
    while len(text) < 1_000_000:
        text += chunks[index % len(chunks)] + ("" if index % 3 else " ")
        index += 1
    findings = detect(text)
    assert all(0 <= f.start < f.end <= len(text) for f in findings)


def test_a_megabyte_of_digits_and_of_separators_completes() -> None:
    for text in (
        "7" * 1_000_000,
        "1 " * 500_000,
        "1-" * 500_000,
        "a." * 500_000,
        "1:" * 500_000,
        "@" * 1_000_000,
        ":" * 1_000_000,
    ):
        assert detect(text) == []


def test_a_long_list_of_phone_numbers_finds_every_one() -> None:
    # Windows of digits are cut into bounded pieces and pass-1 findings are
    # walked once, so this is linear; every number is still found.
    text = "call (415) 555-2671 now " * 10_000
    assert len(detect(text)) == 10_000
