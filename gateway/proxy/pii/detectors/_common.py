"""Helpers shared by the detector families."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from gateway.proxy.pii.spans import Finding

# A detector reads folded text and yields findings in folded coordinates.
Detector = Callable[[str], Iterator[Finding]]
# A late detector reads folded text with the findings of the others blanked,
# and the folded text before blanking for context.
LateDetector = Callable[[str, str], Iterator[Finding]]

# How far before a candidate a context word may end ("passport no. ...").
CONTEXT_WINDOW = 40
# How far before the window a context word that ends inside it may start
# ("social security number we have on file is ...").
_CONTEXT_OVERHANG = 24
# Where the previous item of a list or a key=value record ends, so a key of
# one item ("ssn=...") is not read as the context of the next one's value: a
# line break, `;` or `,`, or a quoted or bare value followed by another key.
_ITEM_BOUNDARY = re.compile(
    r"[\n;,]|(?:[\"']|[=:][^\s\"',;]+)\s+(?=[A-Za-z_][\w.\-]*\s*[=:])",
    re.ASCII,
)


def has_context(text: str, start: int, words: re.Pattern[str]) -> bool:
    """Tell whether a context word ends within CONTEXT_WINDOW characters before `start`."""
    window_start = max(0, start - CONTEXT_WINDOW - _CONTEXT_OVERHANG)
    for boundary in _ITEM_BOUNDARY.finditer(text, window_start, start):
        window_start = boundary.end()
    # Keys spell words with underscores (passport_number, tax_id), which
    # regex word boundaries do not split on; a space keeps every offset.
    window = text[window_start:start].replace("_", " ")
    earliest_end = start - CONTEXT_WINDOW - window_start
    return any(match.end() > earliest_end for match in words.finditer(window))


def luhn_valid(digits: str) -> bool:
    """Check the Luhn (mod 10) checksum of a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
