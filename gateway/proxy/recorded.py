"""Strings a tenant chose that the proxy records (usage event) or echoes (headers).

The usage event ends in PostgreSQL, which stores no NUL: one such character
in a model name used to fail the drain's whole batch, every org's rows with
it. The other control characters (C0, DEL, C1) have no place in a model name
or a path either, so all are refused with a 400 before any provider is paid.
One regex search over a few short strings; the body is never walked.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from gateway.proxy.errors import InvalidRequest

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Everything printable in ASCII but "%", which escapes the rest.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def check_recorded(value: str, param: str) -> str:
    """Return `value`, or refuse the request when it holds a control character."""
    if _CONTROL.search(value) is not None:
        raise InvalidRequest(
            f"'{param}' may not contain control characters.",
            code="invalid_characters",
            param=param,
        )
    return value


def escaped(value: str) -> str:
    """`value` with everything but printable ASCII percent-encoded (as UTF-8)."""
    return quote(value, safe=_HEADER_SAFE)


def header_value(value: str) -> bytes:
    """A header value built from tenant configuration, always printable ASCII.

    Routes saved before model names had to be printable ASCII may hold DEL or
    non-ASCII; sent as they are, the server drops the answer the provider was
    already paid for. Such a value goes out percent-encoded instead.
    """
    if value.isascii() and value.isprintable():
        return value.encode("ascii")
    return escaped(value).encode("ascii")
