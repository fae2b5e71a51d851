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
from tests.factories.pii import FRAGMENTS

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
