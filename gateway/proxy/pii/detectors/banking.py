"""Bank account numbers: IBAN, validated by python-stdnum (country format and mod 97)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban

from gateway.proxy.pii.spans import Finding

# Country code, check digits, then the BBAN either plain or printed in groups
# of four separated by single spaces. The repetitions are bounded, so the
# backtracking is too; the longest candidate is tried first, then shorter
# ones ending at a group boundary (a word may follow a printed IBAN).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?)"
    r"(?![A-Za-z0-9])",
    re.ASCII,
)


def detect_ibans(text: str) -> Iterator[Finding]:
    """Yield IBANs that pass python-stdnum's validation."""
    for match in _IBAN.finditer(text):
        candidate = match.group()
        end = len(candidate)
        while end >= 15:
            if iban.is_valid(candidate[:end]):
                yield Finding("IBAN", match.start(), match.start() + end, "iban_mod97")
                break
            cut = candidate.rfind(" ", 0, end)
            if cut < 0:
                break
            end = cut
