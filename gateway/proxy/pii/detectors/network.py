"""Network addresses: IPv4 and IPv6, validated by the ipaddress module."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from gateway.proxy.pii.spans import Finding

# Not glued to a word, a dot or another number, so "v1.2.3.4", "1.2.3.4.5"
# and "version 10.0.0.1-beta" style strings are left alone. What comes
# before is checked after the first digit, so the scan skips to digits in C
# rather than trying a lookbehind at every character (tests/gateway/proxy/pii/test_fast_path.py
# compares it with the lookbehind first).
_IPV4 = re.compile(
    r"[0-9](?<![A-Za-z0-9.\-][0-9])[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9\-]|\.[0-9])",
    re.ASCII,
)
# A version word right before a dotted quad, also as a key ("Version: ",
# APP_VERSION=", "version": "") or in prose ("version is", "version (").
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9])v|(?<![A-Za-z])(?:version|ver\.?|release|build))"
    r"[\"']?\s*(?:[:=]\s*[\"']?|\(|is\s)?\s*$"
)
_VERSION_LOOKBEHIND = 24
# Hex groups separated by colons, optionally ending in a dotted quad. Each
# group is bounded and the colon separates them, so matching is linear.
# A colon may come before, when it ends a key ("ip:fe80::1"); the key is
# checked in Python, see _after_key.
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9.])"
    r"(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){1,7}"
    r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?"
    r"(?:%[A-Za-z0-9]{1,16})?"
    r"(?![A-Za-z0-9:]|\.[0-9])",
    re.ASCII,
)


_KEY_BEFORE_COLON = re.compile(r"[A-Za-z0-9_\-]*[G-Zg-z_\-][A-Za-z0-9_\-]*$", re.ASCII)


def _starts_cleanly(text: str, start: int) -> bool:
    """Tell whether an IPv6 candidate at `start` is not the tail of a longer colon run.

    Only a `key:` may come right before: a key has a letter that is not a hex
    digit (ip, client_ip, remote_addr), so "1:2:3:4:5:6:7:8:9" does not
    yield its last eight groups.
    """
    if start == 0 or text[start - 1] != ":":
        return True
    return _KEY_BEFORE_COLON.search(text, max(0, start - 65), start - 1) is not None


def detect_ip_addresses(text: str) -> Iterator[Finding]:
    """Yield valid IPv4 addresses (not version numbers) and IPv6 addresses."""
    for match in _IPV4.finditer(text):
        if _VERSION_CONTEXT.search(
            text, max(0, match.start() - _VERSION_LOOKBEHIND), match.start()
        ):
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", match.start(), match.end(), "ipv4")
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if not _starts_cleanly(text, match.start()):
            continue
        if candidate.count(":") < 2 or not any(char.isdigit() for char in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", match.start(), match.end(), "ipv6")
