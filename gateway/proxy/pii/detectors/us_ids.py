"""US identifiers: SSN and ITIN by their validity rules; passport and driver's
licence numbers only next to a context word, as their formats alone are
indistinguishable from order numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from gateway.proxy.pii.detectors._common import has_context
from gateway.proxy.pii.spans import Finding

_EDGE_AFTER = r"(?![A-Za-z0-9]|-[0-9]|\.[0-9])"

# AAA-GG-SSSS; the separator is captured so both must agree. Not after a
# letter, digit, dash or dot: checked after the first digit, so the scan
# skips to digits in C rather than trying a lookbehind at every character
# (tests/gateway/proxy/pii/test_fast_path.py compares it with the lookbehind first).
_TAXPAYER_ID = re.compile(
    r"([0-9](?<![A-Za-z0-9\-.][0-9])[0-9]{2})([- ]?)([0-9]{2})\2([0-9]{4})" + _EDGE_AFTER,
    re.ASCII,
)
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|ssns|social\s+security|soc\.?\s*sec|itin|taxpayer|tin|tax\s+id)\b"
)
_ITIN_GROUPS = frozenset(
    [*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)],
)


def detect_us_taxpayer_ids(text: str) -> Iterator[Finding]:
    """Yield SSNs and ITINs: dash-formatted anywhere, bare or spaced after a context word."""
    for match in _TAXPAYER_ID.finditer(text):
        area, separator, group, serial = match.groups()
        if separator != "-" and not has_context(text, match.start(), _SSN_CONTEXT):
            continue
        area_number, group_number = int(area), int(group)
        if area_number >= 900:
            if group_number in _ITIN_GROUPS:
                yield Finding("US_ITIN", match.start(), match.end(), "itin_rules")
            continue
        if area_number in (0, 666) or group_number == 0 or serial == "0000":
            continue
        yield Finding("US_SSN", match.start(), match.end(), "ssn_rules")


_PASSPORT = re.compile(r"(?<![A-Za-z0-9])(?:[0-9]{9}|[A-Za-z][0-9]{8})(?![A-Za-z0-9])", re.ASCII)
_PASSPORT_CONTEXT = re.compile(r"(?i)\bpassports?\b|\bpassport\s*(?:no|num|number|#)")

_DRIVER_LICENSE = re.compile(
    r"(?<![A-Za-z0-9\-])(?:"
    r"[A-Za-z][0-9]{3}-[0-9]{3}-[0-9]{2}-[0-9]{3}-[0-9]"  # Florida, printed
    r"|[A-Za-z][0-9]{3}-[0-9]{4}-[0-9]{4}"  # Illinois, printed
    r"|[0-9]{3}-[0-9]{3}-[0-9]{3}"  # e.g. Michigan/Texas printed
    r"|(?:WDL|wdl)[A-Za-z0-9]{9}"  # Washington, since 2018
    r"|[A-Za-z]{1,2}[0-9]{4,14}"  # CA, NY, WA, FL, ... plain
    r"|[0-9]{7,12}"  # TX, PA, NY, ... digits only
    r")(?![A-Za-z0-9]|-[0-9])",
    re.ASCII,
)
_DRIVER_LICENSE_CONTEXT = re.compile(
    r"(?i)\bdriver'?s?\s*licen[cs]es?\b|\bdriving\s+licen[cs]e\b|\bd\.?l\.?\b|\bdln\b"
    r"|\blicen[cs]e\s*(?:no|num|number|#)"
)


def detect_us_passports(text: str) -> Iterator[Finding]:
    """Yield 9-digit or letter+8-digit numbers that follow the word passport."""
    for match in _PASSPORT.finditer(text):
        if has_context(text, match.start(), _PASSPORT_CONTEXT):
            yield Finding("US_PASSPORT", match.start(), match.end(), "passport_context")


def detect_us_driver_licenses(text: str) -> Iterator[Finding]:
    """Yield common state licence formats that follow a driver's licence context word."""
    for match in _DRIVER_LICENSE.finditer(text):
        if has_context(text, match.start(), _DRIVER_LICENSE_CONTEXT):
            yield Finding("US_DRIVER_LICENSE", match.start(), match.end(), "license_context")
