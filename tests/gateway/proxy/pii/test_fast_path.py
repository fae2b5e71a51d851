"""The fast paths only skip work: each gives what the plain way it stands for gives.

The prefilter: detect() finds exactly what running every detector finds.
The shortcuts inside detectors are compared with the plain computations
they replace in test_fast_path_detectors.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.proxy.pii import ENTITY_TYPES, detect, normalize
from gateway.proxy.pii.detectors._common import digit_span
from gateway.proxy.pii.detectors.prefilter import TRIGGERS, triggered


def full_width(text: str) -> str:
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


# Values of every family, their look-alikes, and the pieces they are made of,
# so generated texts hold near-misses on both sides of every trigger.
FRAGMENTS = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4222222222222",
    "4621-293-634-100",
    "123-45-6789",
    "ssn 123456789",
    "ITIN 912-70-1234",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "jane.doe+tag@example.co.uk",
    "user=a@b.com",
    "(415) 555-2671",
    "+44 20 7946 0958",
    "030 901820",
    "(02) 9374 4000 ext. 12",
    "090-1234-5678",
    "Spain 912 34 56 78",
    "Teléfono: 55 1234 5678",
    "ana@empresa.es 912 34 56 78",
    "192.168.1.1",
    "1.2.3.4.5",
    "fe80::1ff:fe23:4567:890a",
    "ip:::ffff:185.8.208.1",
    "::1",
    "10:45:03",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "DNI 12345678Z",
    "NIE X2482300W",
    "hetu 131052-308T",
    "CF RSSMRA85T10A562S",
    "RSSMRAURTMLARSNL",  # a codice fiscale with every digit spelled as a letter
    "NIR 1 85 05 2A 006 084 35",
    "nn 85.07.30-033.28",
    "BSN 111222333",
    "PESEL: 44051401359",
    "Steuer-ID 36574261809",
    "passport no. 123456789",
    "passport_number=C03005988",
    "driver's license: D1234567",
    "dl_number=WDLABCDEFGHI",  # a Washington licence without a digit
    "DL# S530-4607-8212",
    "dr\u0130ver license 1234567",  # a dotted capital I the regex folds to i
    "order #88412093",
    "v1.2.3.4",
    "$1,249.99",
    "2024-03-18",
    "21.03.2024",
    "0.20.28.10",
    full_width("4111111111111111"),
    full_width("jane@example.com"),
    "\u200b".join("4111111111111111"),
    "123\u2011\u200b45\u20116789",
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic digits
    "\u0968\u0966\u0968\u096a",  # Devanagari digits
    "\u6771\u4eac\u90fd \u96fb\u8a71",  # CJK
    "\u041c\u043e\u0441\u043a\u0432\u0430",  # Cyrillic
    "caf\u00e9 Z\u00fcrich",
    "\ufb01",
    "\u00ad",
    "\ufeff",
    "\ud800",
]
PIECES = [*"0123456789 -.:@+/()_#xX\n", "\u200b", "\uff11", "\uff20", "\u00a0", "WDL", "bc1"]

texts = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(PIECES),
        st.text(max_size=12),
        st.text(alphabet="0123456789 -.:", max_size=24),
    ),
    max_size=24,
).map("".join)
entity_sets = st.one_of(st.none(), st.frozensets(st.sampled_from(sorted(ENTITY_TYPES))))


@settings(max_examples=1500, deadline=None)
@given(texts, entity_sets)
def test_the_prefilter_never_changes_the_findings(
    text: str, entities: frozenset[str] | None
) -> None:
    assert detect(text, entities) == detect(text, entities, prefilter=False)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6),
    st.sampled_from(["", " ", "\n", "; "]),
)
def test_values_of_every_family_are_found_the_same_both_ways(
    fragments: list[str], separator: str
) -> None:
    text = separator.join(fragments)
    assert detect(text) == detect(text, prefilter=False)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("CF RSSMRAURTMLARSNL", "EU_NATIONAL_ID"),
        ("the driver license number (WDLABCDEFGHI) is wrong", "US_DRIVER_LICENSE"),
        ("the dr\u0130ver license number D1234567", "US_DRIVER_LICENSE"),
        ("NIR 1 85 05 2A 006 084 35", "EU_NATIONAL_ID"),
        ("send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "CRYPTO"),
        ("ip:::ffff:185.8.208.1 x", "IP_ADDRESS"),
    ],
)
def test_values_with_few_or_no_digits_still_reach_their_detector(text: str, entity: str) -> None:
    assert [finding.entity for finding in detect(text)] == [entity]


@pytest.mark.parametrize(
    "text",
    [
        "Could you rewrite this paragraph so it sounds friendlier? Thanks!",
        "Order 2 of the 5 items on Monday; we close at 5.",
    ],
)
def test_prose_without_pii_shapes_fires_no_trigger(text: str) -> None:
    assert triggered(normalize(text).text) == frozenset()


@settings(max_examples=1000, deadline=None)
@given(texts, st.frozensets(st.sampled_from(sorted(TRIGGERS))))
def test_a_trigger_fires_the_same_whatever_else_is_asked(text: str, needed: frozenset[str]) -> None:
    # detect() asks only for the triggers of the requested types; skipping
    # the others must not change the answer for these.
    folded = normalize(text).text
    assert triggered(folded, needed) == triggered(folded) & needed


@settings(max_examples=500, deadline=None)
@given(st.one_of(texts, st.text(), st.text(alphabet="ab1 ", min_size=2040, max_size=2060)))
def test_the_digit_span_is_that_of_the_first_and_last_ascii_digit(text: str) -> None:
    digits = [index for index, char in enumerate(text) if char in "0123456789"]
    expected = (digits[0], digits[-1] + 1) if digits else None
    assert digit_span(text) == expected
