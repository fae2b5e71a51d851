"""Keep tenants' `api_base` away from our own network (SELIXES_PRIVATE_UPSTREAMS, CONTRACT.md §2).

A tenant names the URL the proxy calls for its self-hosted deployments, so
an unchecked `api_base` lets anyone make our servers request cloud metadata
(169.254.169.254), Redis on localhost or the office LAN. With `deny` (the
default) web refuses such a URL when it is saved, and the proxy checks the
address it actually connects to (`is_forbidden_address`), because DNS can
change between the two (rebinding). `allow` is for self-hosting, where local
vLLM or Ollama is the point.

Pure Python, no Django: web and proxy share it.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 2.0
# Names that reach the machine itself or a cloud's metadata service without DNS.
FORBIDDEN_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]{1,253}")
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_forbidden_address(ip: IPAddress | str) -> bool:
    """Whether an address is loopback, private, link-local, multicast, reserved or not global."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_forbidden_address(embedded):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # Shared address space (100.64.0.0/10) is neither private nor global;
        # some clouds keep their metadata service there.
        or not address.is_global
    )


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling the C resolver accepts, or None.

    `ipaddress` refuses `2130706433`, `0x7f.1` and `0177.0.0.1`, but the
    resolver the proxy's HTTP client uses reads them all as 127.0.0.1, so
    inet_aton (the same parser) decides for IPv4.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefABCDEFxX." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _system_resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


# getaddrinfo has no timeout of its own; a slow lookup is abandoned, not awaited.
_resolver_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="ssrf")


def resolve_with_timeout(host: str, timeout_s: float = RESOLVE_TIMEOUT_S) -> list[str]:
    """Resolve a host name; raise OSError when it does not resolve in time."""
    future = _resolver_pool.submit(_system_resolve, host)
    try:
        return future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError as e:
        raise OSError(f"resolving {host} took longer than {timeout_s} s") from e


def parse_upstream(url: str) -> SplitResult:
    """Check an upstream URL's shape: http(s), a host, no credentials, query or fragment."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValueError("The URL may not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("The URL must start with http:// or https://.")
    if "@" in parts.netloc:
        raise ValueError("The URL may not contain a user name or password; use a provider key.")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("The URL may not contain a query string or a fragment.")
    host = parts.hostname or ""
    if not host:
        raise ValueError("The URL has no host.")
    try:
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as e:
        raise ValueError("The URL's port is not a valid port number.") from e
    if not parts.netloc.startswith("[") and not _HOSTNAME.fullmatch(host):
        raise ValueError("The host name may only use letters, digits, dots and hyphens.")
    return parts


def forbidden_host_reason(host: str) -> str | None:
    """Why a host is off limits by its name or literal address alone (no DNS), or None."""
    name = host.lower().rstrip(".")
    if name in FORBIDDEN_NAMES or name.endswith(".localhost"):
        return f"'{host}' is this machine or a cloud metadata service."
    address = ip_literal(name)
    if address is not None and is_forbidden_address(address):
        return f"{address} is a loopback, private, link-local or reserved address."
    return None


def check_upstream(url: str, allow_private: bool, resolve: Resolver = resolve_with_timeout) -> None:
    """Refuse a malformed upstream URL and, unless `allow_private`, one that reaches inside.

    A host name that does not resolve now is accepted (it may be created
    later); the proxy checks the address again when it connects.
    """
    parts = parse_upstream(url)
    if allow_private:
        return
    host = parts.hostname or ""
    reason = forbidden_host_reason(host)
    if reason is not None:
        raise ValueError(f"{reason} Such upstreams are not allowed here.")
    if ip_literal(host.lower().rstrip(".")) is not None:
        return
    try:
        addresses = resolve(host)
    except OSError:
        log.info("api_base host %s does not resolve; accepted, checked again at connect", host)
        return
    for address in addresses:
        # A scoped IPv6 address comes back as "fe80::1%eth0".
        if is_forbidden_address(address.split("%", 1)[0]):
            raise ValueError(
                f"'{host}' resolves to {address}, a loopback, private, link-local or reserved"
                " address. Such upstreams are not allowed here."
            )
