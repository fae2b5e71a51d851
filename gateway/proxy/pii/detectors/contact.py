"""Contact details: email addresses and phone numbers (worldwide, with extensions)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from gateway.proxy.pii.spans import Finding

# local@domain.tld. The local part's atoms exclude the dot, and each domain
# label is bounded, so no two quantifiers compete for the same characters
# without a bound. The TLD is letters only, so trailing punctuation stays out.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}){0,16}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,63}"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
    re.ASCII,
)

DEFAULT_PHONE_REGION = "US"
# Cheap gate: phonenumbers' matcher is the slowest detector, and a number
# needs at least six digits close together.
_PHONE_HINT = re.compile(r"[0-9](?:[^0-9\n]{0,3}[0-9]){5}", re.ASCII)
# Shapes that are never phone numbers but cost phonenumbers a full parse
# each: UUIDs and hex digests, ISO dates, clock times, amounts with decimals,
# and ids whose digits hang off a letter prefix by a dash (ORD-2026-075135).
_NOT_A_PHONE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2,}-[0-9]+(?:-[0-9]+)*(?![0-9])|"
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?<![A-Za-z0-9])[0-9A-Fa-f]{24,}(?![A-Za-z0-9])"
    r"|(?<![0-9])[12][0-9]{3}-[01][0-9]-[0-3][0-9](?:[T ][0-2][0-9]:[0-5][0-9](?::[0-5][0-9])?)?"
    r"|(?<![0-9:])[0-2]?[0-9]:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?![0-9:])"
    r"|[$\u20ac\u00a3][0-9][0-9,]{0,15}(?:\.[0-9]{1,2})?",
    re.ASCII,
)
# phonenumbers stops after this many failed candidates per call; it bounds
# the work on adversarial input (a megabyte of near-numbers).
_PHONE_MAX_TRIES = 65535


# A `key=` at the front of a local part: `=` is legal in a local part, so the
# pattern takes "user=a@b.com" whole, but in key=value text it is the key.
_KEY_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*=", re.ASCII)


def detect_emails(text: str) -> Iterator[Finding]:
    """Yield RFC-reasonable email addresses, without a `key=` in front."""
    for match in _EMAIL.finditer(text):
        start = match.start()
        at = text.index("@", start)
        key = _KEY_PREFIX.match(text, start, at)
        if key is not None and key.end() < at:
            start = key.end()
        yield Finding("EMAIL", start, match.end(), "email_pattern")


def detect_phone_numbers(text: str) -> Iterator[Finding]:
    """Yield numbers phonenumbers finds VALID: US by default, any country with +CC."""
    if _PHONE_HINT.search(text) is None:
        return
    matcher = phonenumbers.PhoneNumberMatcher(
        _NOT_A_PHONE.sub(lambda match: " " * len(match.group()), text),
        DEFAULT_PHONE_REGION,
        leniency=phonenumbers.Leniency.VALID,
        max_tries=_PHONE_MAX_TRIES,
    )
    for match in matcher:
        start = match.start
        # phonenumbers keeps an opening bracket without its closing one:
        # "(+1 201-541-8575)" gives "(+1 201-541-8575"; "(201) 555-0100" stays.
        if text[start] == "(" and ")" not in match.raw_string:
            start += 1
        yield Finding("PHONE", start, match.end, "phonenumbers")
