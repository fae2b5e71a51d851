"""Payment card numbers: known IIN ranges, brand lengths and the Luhn checksum."""

from __future__ import annotations

import re
from collections.abc import Iterator

from gateway.proxy.pii.detectors._common import luhn_valid
from gateway.proxy.pii.spans import Finding

# A run of at least 13 digits in groups joined by single spaces or dashes,
# not touching a letter or digit, nor after a `+` (an E.164 phone number).
# Each repetition consumes exactly one digit, so the match is linear; the
# run is then cut into card-sized windows in Python.
# What comes before is checked after the first digit, so the scan skips to
# digits in C rather than trying a lookbehind at every character
# (tests/gateway/proxy/pii/test_fast_path.py compares it with the lookbehind first).
_DIGIT_RUN = re.compile(r"[0-9](?<![A-Za-z0-9+][0-9])(?:[ -]?[0-9]){12,}(?![A-Za-z0-9])")
_GROUP = re.compile(r"[0-9]+")
_VISA13_GROUPS = (4, 3, 3, 3)

# (prefix low, prefix high, allowed lengths), prefixes compared on as many
# leading digits as the bounds have.
_IIN_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (3095, 3095, frozenset(range(14, 20))),
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(14, 20))),
    (62, 62, frozenset(range(16, 20))),  # UnionPay (includes Discover 622126-622925)
    (2200, 2204, frozenset(range(16, 20))),  # Mir
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 58, frozenset(range(13, 20))),
    (6304, 6304, frozenset(range(13, 20))),
    (6759, 6759, frozenset(range(13, 20))),
    (6761, 6763, frozenset(range(13, 20))),
    (5893, 5893, frozenset(range(13, 20))),
)


def is_card_number(digits: str) -> bool:
    """Tell whether a digit string is a Luhn-valid number in a known card range."""
    length = len(digits)
    if not 13 <= length <= 19:
        return False
    for low, high, lengths in _IIN_RANGES:
        if length in lengths and low <= int(digits[: len(str(low))]) <= high:
            return luhn_valid(digits)
    return False


def _is_visa13_layout(lengths: list[int]) -> bool:
    """Tell whether group lengths so far are a prefix of the 4-3-3-3 layout."""
    return tuple(lengths) == _VISA13_GROUPS[: len(lengths)]


def detect_cards(text: str) -> Iterator[Finding]:
    """Yield Luhn-valid card numbers of known brands, plain or grouped."""
    for run in _DIGIT_RUN.finditer(text):
        raw = run.group()
        groups = [(group.start(), group.end()) for group in _GROUP.finditer(raw)]
        # Printed cards are grouped 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3, 4-3-3-3
        # (13-digit Visa) or not at all, with one kind of separator: a group
        # shorter than 4 can only end a card, unless it is one of the threes
        # of 4-3-3-3, and a change of separator ends the window; the windows
        # tried per start are bounded by 19 digits.
        first = 0
        while first < len(groups):
            found = None
            digits = ""
            separator = None
            lengths: list[int] = []
            for last in range(first, len(groups)):
                start, end = groups[last]
                if len(digits) + end - start > 19:
                    break
                if last > first:
                    if separator is None:
                        separator = raw[start - 1]
                    elif raw[start - 1] != separator:
                        break
                if lengths and min(lengths) < 4 and not _is_visa13_layout([*lengths, end - start]):
                    break
                lengths.append(end - start)
                digits += raw[start:end]
                if len(digits) >= 13 and end - start >= 3 and is_card_number(digits):
                    found = last
            if found is None:
                first += 1
                continue
            yield Finding(
                "CREDIT_CARD",
                run.start() + groups[first][0],
                run.start() + groups[found][1],
                "luhn",
            )
            first = found + 1
