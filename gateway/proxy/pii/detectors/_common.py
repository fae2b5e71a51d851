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


_DIGITS = "0123456789"
# Every ASCII digit byte as b"0", every other byte a space.
_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
# Below this length mapping a whole ASCII text to bytes (one find, one
# rfind) beats ten str.find and ten str.rfind calls; above it their
# memory-speed scans win.
_BYTES_SPAN_LIMIT = 2048


def digit_span(text: str) -> tuple[int, int] | None:
    """Return where the ASCII digits of `text` start and end (one past the last), or None.

    Digit patterns lie within this span, so a regex scan can start and stop
    there instead of stepping through the prose around it (str.find and
    bytes.find run at memory speed, a regex scan some nanoseconds a
    character).
    """
    if len(text) < _BYTES_SPAN_LIMIT and text.isascii():
        marks = text.encode().translate(_DIGITS_AS_ZERO)
        first = marks.find(b"0")
        return None if first < 0 else (first, marks.rfind(b"0") + 1)
    found = [index for index in map(text.find, _DIGITS) if index >= 0]
    if not found:
        return None
    return min(found), max(map(text.rfind, _DIGITS)) + 1


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
