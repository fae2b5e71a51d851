"""One cheap pass over folded text that tells which detectors could match.

    triggered(text) -> frozenset of trigger names (see TRIGGERS)

Every trigger is a necessary condition of its detector's pattern, so a
detector whose trigger did not fire would have found nothing: skipping it
changes no result (tests/pii/test_fast_path.py compares both paths). The
pass reads the digit runs once (`[0-9]+`) and looks at their lengths, the
gaps between them and the characters around them; the few families that
need no digit get their own cheap check.
"""

from __future__ import annotations

import re

CARD = "card"
TAXPAYER_ID = "taxpayer_id"
IBAN = "iban"
EMAIL = "email"
IP_ADDRESS = "ip_address"
CRYPTO = "crypto"
EU_NUMBER = "eu_number"
EU_CODICE_FISCALE = "eu_codice_fiscale"
PASSPORT = "passport"
DRIVER_LICENSE = "driver_license"
PHONE = "phone"
TRIGGERS = frozenset(
    {
        CARD,
        TAXPAYER_ID,
        IBAN,
        EMAIL,
        IP_ADDRESS,
        CRYPTO,
        EU_NUMBER,
        EU_CODICE_FISCALE,
        PASSPORT,
        DRIVER_LICENSE,
        PHONE,
    }
)

_DIGIT_RUN = re.compile(r"[0-9]+")
_ALNUM_16 = re.compile(r"[A-Za-z0-9]{16}", re.ASCII)
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ASCII_ALNUM = _ASCII_LETTERS | frozenset("0123456789")
# An IPv6 address has two colons in a row, or else at least two colons with
# a group of one to four hex digits between them ("10:30" has neither).
_HEX_GROUP_BETWEEN_COLONS = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:", re.ASCII)
# The context words' regexes are case-insensitive over Unicode, where `i`
# also matches U+0130 and U+0131 (folding already turned the long s and the
# Kelvin sign into ASCII); these loose forms are substrings of every match.
_PASSPORT_WORD = re.compile(r"(?i)passport")
_DRIVER_LICENSE_WORD = re.compile(r"(?i)driv|licen|d\.?l")


def triggered(text: str) -> frozenset[str]:
    """Return the triggers that fire on folded `text` (a superset of what can match)."""
    fired: set[str] = set()
    if "@" in text:
        fired.add(EMAIL)
    # A codice fiscale may spell all its digits as letters: 16 ASCII letters
    # and digits in a row. A Washington licence may have no digit: WDL first.
    # Tokens that long are rare in prose, and an email address or a URL
    # seldom has 16 letters and digits in a row.
    if any(len(token) >= 16 and _ALNUM_16.search(token) for token in text.split()):
        fired.add(EU_CODICE_FISCALE)
    if ("WDL" in text or "wdl" in text) and _has_driver_license_word(text):
        fired.add(DRIVER_LICENSE)
    if not any(digit in text for digit in "0123456789"):
        return frozenset(fired)

    # Digits in the current chain of runs one character apart (cards, SSNs,
    # IDs print groups with one separator) and at most three apart (phone
    # numbers: "(415) 555"); runs of at most three digits one dot apart
    # (dotted quads). The loop is the hot path of every prompt with digits.
    longest_run = chain1 = chain3 = dotted = 0
    best_chain1 = best_chain3 = best_dotted = 0
    previous_end = -10
    iban = crypto = False
    for start, end in [match.span() for match in _DIGIT_RUN.finditer(text)]:
        size = end - start
        gap = start - previous_end
        if gap == 1:
            chain1 += size
            chain3 += size
            dotted = dotted + 1 if size <= 3 and text[previous_end] == "." else 0
        else:
            chain1 = size
            chain3 = chain3 + size if gap <= 3 else size
            dotted = 0
        if dotted == 0 and size <= 3:
            dotted = 1
        if chain1 > best_chain1:
            best_chain1 = chain1
        if chain3 > best_chain3:
            best_chain3 = chain3
        if dotted > best_dotted:
            best_dotted = dotted
        if size > longest_run:
            longest_run = size
        previous_end = end
        # IBAN: two letters, then the two check digits.
        if not iban and size >= 2 and start >= 2 and text[start - 2 : start].isalpha():
            iban = True
        # Ethereum 0x..., bech32 bc1..., base58 1... or 3... (whose digits
        # run into a letter unless the whole address is digits).
        if not crypto and text[start] in "013" and _may_start_address(text, start, end):
            crypto = True
    if iban:
        fired.add(IBAN)
    if crypto:
        fired.add(CRYPTO)

    if best_chain1 >= 13:
        fired.add(CARD)
    if best_chain1 >= 9:
        fired.add(TAXPAYER_ID)
    # Six digits in one run (DNI, NIE, HETU, personnummer, CPR) or eight in
    # groups one apart (the shortest tail of a French NIR with a Corsican
    # department: "2A 006 084 91").
    if longest_run >= 6 or best_chain1 >= 8:
        fired.add(EU_NUMBER)
    if best_chain3 >= 6:
        fired.add(PHONE)
    if best_dotted >= 4 or (
        ":" in text and ("::" in text or _HEX_GROUP_BETWEEN_COLONS.search(text))
    ):
        fired.add(IP_ADDRESS)
    if longest_run >= 8 and _PASSPORT_WORD.search(text):
        fired.add(PASSPORT)
    if best_chain1 >= 4 and DRIVER_LICENSE not in fired and _has_driver_license_word(text):
        fired.add(DRIVER_LICENSE)
    return frozenset(fired)


def _may_start_address(text: str, start: int, end: int) -> bool:
    """Tell whether the digit run [start, end) could begin a wallet address."""
    after = text[end] if end < len(text) else ""
    if text[start] == "0":
        return end - start == 1 and after == "x"
    if text[start] == "1" and text[start - 2 : start] in ("bc", "BC"):
        return True
    before = text[start - 1] if start else ""
    return before not in _ASCII_ALNUM and (
        end - start >= 26 or (after != "" and after in _ASCII_LETTERS)
    )


def _has_driver_license_word(text: str) -> bool:
    if text.isascii():
        lowered = text.lower()
        return "driv" in lowered or "licen" in lowered or "dl" in lowered or "d.l" in lowered
    return _DRIVER_LICENSE_WORD.search(text) is not None
