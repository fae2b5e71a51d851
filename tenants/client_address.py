"""Which address a web request came from, believing X-Forwarded-For only from trusted proxies.

Every proxy appends the address it saw to X-Forwarded-For, so the header
reads client-first, and only the hops our own proxies appended can be
believed: anything to their left was written by whoever connected to them.
We therefore start at the direct peer (REMOTE_ADDR) and walk the header from
the right while the address in hand is a trusted proxy
(SELIXES_TRUSTED_PROXIES); the first address that is not one is the client.
With no trusted proxies configured (the default) the header is never read.

What comes out is a valid IP address or None, never the header's text: it
lands in an `inet` column (the audit log) and in rate-limit keys.

django-ipware 8 was weighed and not used: it never checks that REMOTE_ADDR is
a trusted proxy before believing a header, and its proxy_list matches a fixed
number of trailing hops in order rather than "any hop in these networks", so
one proxy (whose own address is not in the header) or a variable chain needs
this walk anyway.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from config.env import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# The longest textual IPv6 address (IPv4-mapped, full form) is 45 characters;
# anything longer is not an address and is not worth parsing.
MAX_ADDRESS_CHARS = 45
# No real deployment chains this many proxies; a longer header is a client's
# padding, and walking it would only cost time.
MAX_HOPS = 16


def parse_address(text: str | None) -> IPAddress | None:
    """Return `text` as an IP address, or None when it is anything else."""
    text = (text or "").strip()
    if not text or len(text) > MAX_ADDRESS_CHARS or "%" in text:
        # "%" is an IPv6 zone ("fe80::1%eth0"): Python parses it, PostgreSQL's inet does not.
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # One client, one spelling: "::ffff:203.0.113.7" counts as 203.0.113.7.
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address: the rightmost forwarded hop that is not a trusted proxy."""
    address = parse_address(request.META.get("REMOTE_ADDR"))
    proxies: tuple[IPNetwork, ...] = settings.TRUSTED_PROXIES
    if address is None or not proxies or not _trusted(address, proxies):
        return str(address) if address is not None else None
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = forwarded.rsplit(",", MAX_HOPS)[-MAX_HOPS:] if forwarded else []
    for hop in reversed(hops):
        previous = parse_address(hop)
        if previous is None:
            # Written by a client of a trusted-range address, not by a proxy:
            # the last address a trusted proxy vouched for is the best we know.
            break
        address = previous
        if not _trusted(address, proxies):
            break
    return str(address)
