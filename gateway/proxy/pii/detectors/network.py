"""Network addresses: IPv4 and IPv6, validated by the ipaddress module."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from gateway.proxy.pii.spans import Finding

# Not glued to a word, a dot or another number, so "v1.2.3.4", "1.2.3.4.5"
# and "version 10.0.0.1-beta" style strings are left alone.
_IPV4 = re.compile(
    r"(?<![A-Za-z0-9.\-])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![A-Za-z0-9\-]|\.[0-9])", re.ASCII
)
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|\bversion|\bver\.?|\brelease|\bbuild)\s*$")
# Hex groups separated by colons, optionally ending in a dotted quad. Each
# group is bounded and the colon separates them, so matching is linear.
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9:.])"
    r"(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){1,7}"
    r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?"
    r"(?:%[A-Za-z0-9]{1,16})?"
    r"(?![A-Za-z0-9:]|\.[0-9])",
    re.ASCII,
)


def detect_ip_addresses(text: str) -> Iterator[Finding]:
    """Yield valid IPv4 addresses (not version numbers) and IPv6 addresses."""
    for match in _IPV4.finditer(text):
        if _VERSION_CONTEXT.search(text, max(0, match.start() - 12), match.start()):
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", match.start(), match.end(), "ipv4")
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if candidate.count(":") < 2 or not any(char.isdigit() for char in candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", match.start(), match.end(), "ipv6")
