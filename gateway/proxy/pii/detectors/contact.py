"""Email addresses (phone numbers are in `phone`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

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

# A `key=` at the front of a local part: `=` is legal in a local part, so the
# pattern takes "user=a@b.com" whole, but in key=value text it is the key.
_KEY_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*=", re.ASCII)


# What the local part is made of, and its longest possible length (64 per
# atom, 17 atoms, the dots between).
_LOCAL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+/=?^_`{|}~-"
_LOCAL_MAX = 64 * 17 + 16
_AT_AFTER_LOCAL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]@", re.ASCII)


def detect_emails(text: str) -> Iterator[Finding]:
    """Yield RFC-reasonable email addresses, without a `key=` in front."""
    for start, match in _email_matches(text):
        at = text.index("@", start)
        key = _KEY_PREFIX.match(text, start, at)
        if key is not None and key.end() < at:
            start = key.end()
        yield Finding("EMAIL", start, match.end(), "email_pattern")


def _email_matches(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """Yield what `_EMAIL.finditer(text)` yields, trying only where an address can start.

    The lookbehind puts a match's start at the first character of the run of
    local-part characters that ends at its `@`, so for each `@` that run's
    start is the one place to try; the text between the `@`s is never
    scanned.
    """
    last_end = 0
    previous_at = -1
    position = 0
    while True:
        # str.find skips to the next `@` at memchr speed (a regex scan costs
        # about as much per character as the whole rest of this detector on
        # a prompt); the regex then starts just before that `@` and, with no
        # Python step per `@`, passes those that have no local-part character
        # before them ("@@@@...").
        at = text.find("@", position)
        if at < 0:
            return
        candidate = _AT_AFTER_LOCAL.search(text, max(position, at - 1))
        if candidate is None:
            return
        at = candidate.end() - 1
        position = candidate.end()
        # The run cannot reach back past the previous `@`, which bounds the
        # characters read per `@` by the text between them.
        before = text[max(previous_at + 1, at - _LOCAL_MAX - 1) : at]
        previous_at = at
        run = len(before) - len(before.rstrip(_LOCAL_CHARS))
        start = at - run
        if run <= _LOCAL_MAX and start >= last_end:
            match = _EMAIL.match(text, start)
            if match is not None:
                last_end = match.end()
                yield start, match
