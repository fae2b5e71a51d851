"""Helpers shared by the detector families."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from gateway.proxy.pii.spans import Finding

# A detector reads folded text and yields findings in folded coordinates.
Detector = Callable[[str], Iterator[Finding]]

# How far before a candidate a context word may start ("passport no. ...").
CONTEXT_WINDOW = 40


def has_context(text: str, start: int, words: re.Pattern[str]) -> bool:
    """Tell whether a context word ends within CONTEXT_WINDOW characters before `start`."""
    return words.search(text, max(0, start - CONTEXT_WINDOW), start) is not None


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
