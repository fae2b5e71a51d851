"""Shortcuts inside the detectors, each compared with the plain computation it replaces.

A scan started at the first digit or `@`, a regex that passes over short
clusters, a word check before the region regex, phonenumbers' validity read
from precompiled patterns, regexes whose lookbehind moved after the first
digit: generated inputs must give what the plain way gives.
"""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.proxy.pii.detectors import (
    cards,
    contact,
    eu_ids,
    network,
    phone,
    phone_windows,
    us_ids,
)
from gateway.proxy.pii.detectors.phone_regions import region_hints, valid_for_region
from tests.factories.pii import FRAGMENTS


def _old_clusters(text: str) -> list[tuple[int, int]]:
    """Phone clusters as read before: every cluster, then those of six digits or more."""
    clusters = re.finditer(r"[0-9](?:[^0-9\n]{0,3}[0-9])*", text, re.ASCII)
    return [c.span() for c in clusters if sum(map(c.group().count, "0123456789")) >= 6]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789 -.()/\nx+", max_size=80))
def test_phone_clusters_are_exactly_the_clusters_of_six_digits(text: str) -> None:
    assert [c.span() for c in phone_windows.DIGIT_CLUSTER.finditer(text)] == _old_clusters(text)


def _old_chain_starts(text: str) -> list[tuple[int, int]]:
    """EU chain starts by their definition: runs one apart, from where six digits follow."""
    runs = [run.span() for run in re.finditer(r"[0-9]+", text)]
    chains: list[list[tuple[int, int]]] = []
    for start, end in runs:
        if chains and start - chains[-1][-1][1] == 1:
            chains[-1].append((start, end))
        else:
            chains.append([(start, end)])
    starts: list[tuple[int, int]] = []
    for chain in chains:
        for index, (start, end) in enumerate(chain):
            if sum(e - s for s, e in chain[index:]) >= 6:
                starts.append((start, end - start))
    return starts


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789 -./x\n", max_size=80))
def test_eu_chain_starts_are_those_of_the_definition(text: str) -> None:
    assert eu_ids._chain_starts(text) == _old_chain_starts(text)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "@",
                    "@@",
                    ".",
                    "a",
                    "b.c",
                    "x=y",
                    " ",
                    "-",
                    "\n",
                    "\u00e9",
                    "co.uk",
                    "@example.com",
                ]
            ),
            st.text(max_size=6),
        ),
        max_size=30,
    ).map("".join)
)
def test_email_candidates_are_those_of_the_plain_scan(text: str) -> None:
    # The scan jumps from `@` to `@` with str.find; it must start every
    # match finditer would.
    fast = [match.span() for _, match in contact._email_matches(text)]
    assert fast == [match.span() for match in contact._EMAIL.finditer(text)]


REGION_TEXT_WORDS = [
    "Spain", "new", "zealand", "New Zealand", "united", "kingdom", "uk", "UK", "ukraine",
    "german", "germany", "telefon", "telefonnummer", "tel\u00e9fono", "Espa\u00f1a", "south",
    "africa", "polish", "call", "me", "at", "ana@empresa.es", "www.example.co.uk",
    "https://x.com.mx/a", "spain2", "_spain", "x-spain", "\u0130ndia", "india",
]  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(REGION_TEXT_WORDS),
            st.sampled_from([" ", ", ", ".", "\n", "-", "_", "0"]),
            st.text(max_size=5),
        ),
        max_size=20,
    ).map("".join)
)
def test_region_hints_prefilter_never_changes_the_regions(text: str) -> None:
    assert region_hints(text) == region_hints(text, prefilter=False)


PHONE_REGIONS = ["US", "CA", "GB", "DE", "FR", "IT", "ES", "MX", "BR", "AU", "IN", "JP", "CH"]


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(PHONE_REGIONS), st.data())
def test_valid_for_region_agrees_with_phonenumbers(region: str, data: st.DataObject) -> None:
    # Start from the region's example numbers (valid ones) and change a few
    # digits, drop or add one, so both verdicts are exercised.
    examples = [
        number.national_number
        for kind in phonenumbers.PhoneNumberType.values()
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    digits = list(str(data.draw(st.sampled_from(examples))))
    for _ in range(data.draw(st.integers(0, 2))):
        digits[data.draw(st.integers(0, len(digits) - 1))] = data.draw(
            st.sampled_from("0123456789")
        )
    edit = data.draw(st.sampled_from(["keep", "drop", "add"]))
    if edit == "drop":
        digits.pop()
    elif edit == "add":
        digits.append(data.draw(st.sampled_from("0123456789")))
    national = str(int("".join(digits) or "0"))
    number = phonenumbers.PhoneNumber(
        country_code=phonenumbers.country_code_for_region(region), national_number=int(national)
    )
    assert valid_for_region(national, region) == phonenumbers.is_valid_number_for_region(
        number, region
    )


# phone_windows.NOT_A_PHONE as first written, lookbehinds first: the reference.
_NOT_A_PHONE_AS_WRITTEN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2,}-[0-9]+(?:-[0-9]+)*(?![0-9])|"
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?<![A-Za-z0-9])[0-9A-Fa-f]{24,}(?![A-Za-z0-9])"
    r"|(?<![0-9])[12][0-9]{3}-[01][0-9]-[0-3][0-9](?:[T ][0-2][0-9]:[0-5][0-9](?::[0-5][0-9])?)?"
    r"|(?<![0-9:])[0-2]?[0-9]:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?![0-9:])"
    r"|[$\u20ac\u00a3][0-9][0-9,]{0,15}(?:\.[0-9]{1,2})?"
    r"|(?<![0-9.])[0-3]?[0-9]([./])[0-3]?[0-9]\1(?:19|20)[0-9]{2}(?![0-9]|[./][0-9])",
    re.ASCII,
)
SHAPES = [
    "2024-03-18", "2024-03-18T10:30:00", "12:30", "1:30:45.123", "9:05", "29:61",
    "$1,249.99", "\u20ac312.40", "21.03.2024", "3/21/2024", "03/21/1999", "1.2.2024.5",
    "ORD-2026-075135", "ab-12-34", "550e8400-e29b-41d4-a716-446655440000",
    "a3f5c9e1b2d4f6a8c0e2b4d6f8a0c2e4", "(415) 555-2671",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(SHAPES),
            # Near-shapes: times, dates and ids with digit counts either side.
            st.from_regex(r"[0-9]{1,3}:[0-9]{1,3}(:[0-9]{2}(\.[0-9]{1,3})?)?", fullmatch=True),
            st.from_regex(r"[0-9]{1,3}[./][0-9]{1,3}[./](19|20|21)[0-9]{1,3}", fullmatch=True),
            st.from_regex(r"[0-9]{3,5}-[0-9]{1,3}-[0-9]{1,3}", fullmatch=True),
            st.from_regex(r"[A-Za-z]{1,3}-[0-9]{1,4}(-[0-9]{1,4})?", fullmatch=True),
            st.text(alphabet="0123456789abcdefABCDEFxT -:./$\u20ac,\n", max_size=8),
        ),
        max_size=8,
    ).map("".join)
)
def test_never_a_phone_shapes_match_as_first_written(text: str) -> None:
    spans = [match.span() for match in phone_windows.NOT_A_PHONE.finditer(text)]
    assert spans == [match.span() for match in _NOT_A_PHONE_AS_WRITTEN.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(FRAGMENTS),
            st.sampled_from(["(415) 555-2671", "030 901820", "+44 20 7946 0958", "Spain "]),
            st.text(alphabet="0123456789 -.()+", max_size=16),
        ),
        max_size=8,
    ).map(" ".join)
)
def test_skipping_clusters_pass_one_covered_changes_no_national_number(text: str) -> None:
    hints = phone._Hints(text, [])
    for low, high, clusters in phone_windows.cluster_windows(text):
        piece = phone_windows.scrubbed_window(text, low, high, clusters)
        taken, _ = phone._us_and_international(piece)
        local = [(start - low, end - low) for start, end in clusters]
        every = list(phone._national(piece, local, taken, hints))
        assert list(phone._national(piece, phone._uncovered(local, taken), taken, hints)) == every


# Patterns as first written, with what comes before checked first; the
# detectors now check it after the first digit (a faster scan, same matches).
AS_WRITTEN = {
    "ipv4": (
        network._IPV4,
        re.compile(
            r"(?<![A-Za-z0-9.\-])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9\-]|\.[0-9])", re.ASCII
        ),
    ),
    "card run": (
        cards._DIGIT_RUN,
        re.compile(r"(?<![A-Za-z0-9+])[0-9](?:[ -]?[0-9]){12,}(?![A-Za-z0-9])"),
    ),
    "taxpayer id": (
        us_ids._TAXPAYER_ID,
        re.compile(
            r"(?<![A-Za-z0-9\-.])([0-9]{3})([- ]?)([0-9]{2})\2([0-9]{4})"
            r"(?![A-Za-z0-9]|-[0-9]|\.[0-9])",
            re.ASCII,
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(AS_WRITTEN))
@settings(max_examples=1000, deadline=None)
@given(
    text=st.lists(
        st.one_of(
            st.sampled_from(FRAGMENTS),
            st.text(alphabet="0123456789abAB +-.:\n", max_size=20),
        ),
        max_size=8,
    ).map("".join)
)
def test_digit_patterns_match_as_first_written(name: str, text: str) -> None:
    pattern, written = AS_WRITTEN[name]
    found = [(match.span(), match.groups()) for match in pattern.finditer(text)]
    assert found == [(match.span(), match.groups()) for match in written.finditer(text)]


def _scrubbed_as_written(text: str, low: int, high: int, clusters: list[tuple[int, int]]) -> str:
    """phone_windows.scrubbed_window as first written: the shapes regex runs at every cluster."""
    blanks: list[tuple[int, int]] = []
    for start, end in clusters:
        before = text[max(low, start - phone_windows.SHAPE_REACH) : start]
        lookfrom = max(start - (len(before) - len(before.rstrip(phone_windows.SHAPE_CHARS))), low)
        if blanks:
            lookfrom = max(lookfrom, blanks[-1][1])
        for match in phone_windows.NOT_A_PHONE.finditer(text, lookfrom, min(high, end + 4)):
            blanks.append(match.span())
    parts: list[str] = []
    position = low
    for start, end in blanks:
        if end > position:
            start = max(start, position)
            parts += [text[position:start], " " * (end - start)]
            position = end
    return "".join([*parts, text[position:high]])


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(SHAPES),
            st.sampled_from(FRAGMENTS),
            st.from_regex(r"[0-9a-f]{20,30}", fullmatch=True),
            st.text(alphabet="0123456789abcdef +-.:/$\n", max_size=12),
        ),
        max_size=8,
    ).map(" ".join)
)
def test_scrubbing_skips_only_clusters_no_shape_can_touch(text: str) -> None:
    for low, high, clusters in phone_windows.cluster_windows(text):
        assert phone_windows.scrubbed_window(text, low, high, clusters) == _scrubbed_as_written(
            text, low, high, clusters
        )
