"""One cheap pass over folded text that tells which detectors could match.

    triggered(text, needed=TRIGGERS) -> frozenset of trigger names (see TRIGGERS)

Every trigger is a necessary condition of its detector's pattern, so a
detector whose trigger did not fire would have found nothing: skipping it
changes no result (tests/gateway/proxy/pii/test_fast_path.py compares both paths). Only
the `needed` triggers are looked at (those of the requested entity types).

Cost is what matters here, as every prompt pays it. A regex scan costs
several nanoseconds per character even where nothing matches, a Python
step per digit run far more, while bytes.translate, `in` and `find` run
at memory speed. So ASCII text is first mapped to bytes with every letter
an `a` and every digit a `0` (where the codice fiscale, IBAN and digit
checks are substring searches, and prose without digits stops), and each
remaining digit trigger is one regex search over the stretch from the
first digit to the last, written to try only where a match can begin and
to stop at its first hit.
"""

from __future__ import annotations

import re

from gateway.proxy.pii.detectors._common import digit_span

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

_ALNUM_16 = re.compile(r"[A-Za-z0-9]{16}", re.ASCII)
# The first digit of a chain of digit runs one character apart (cards, SSNs
# and IDs print their groups with one separator): not after a digit, nor
# after a digit and one character. The lookbehinds come after the digit so
# the search still skips to digits in C.
_CHAIN_START = r"[0-9](?<![0-9][0-9])(?<![0-9][^0-9][0-9])"


def _chain_of(digits: int) -> re.Pattern[str]:
    """A chain of runs one character apart holding at least `digits` digits."""
    # Possessive: a separator can be taken one way only (see phone_windows.DIGIT_CLUSTER).
    return re.compile(_CHAIN_START + rf"(?:[^0-9]?+[0-9]){{{digits - 1}}}")


_CHAIN_13 = _chain_of(13)  # a card number
_CHAIN_9 = _chain_of(9)  # an SSN or ITIN
_CHAIN_8 = _chain_of(8)  # the shortest tail of a French NIR ("2A 006 084 91")
_CHAIN_4 = _chain_of(4)  # a driver's licence
_RUN_6 = re.compile(r"[0-9]{6}")  # DNI, NIE, HETU, personnummer, CPR
_RUN_8 = re.compile(r"[0-9]{8}")  # a passport number
# Six digits whose runs are at most three characters apart: a phone number
# ("(415) 555"). Implied by every pattern above but the licence's.
_PHONE_DIGITS = re.compile(r"[0-9](?:[^0-9]{0,3}+[0-9]){5}")
# Four runs of at most three digits joined by dots: a dotted quad.
_DOTTED_QUAD = re.compile(r"[0-9](?<![0-9][0-9])[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![0-9])")
# ASCII letters as `a`, digits as `0`, other bytes kept; then digits as `a`
# too, where 16 `a` in a row are 16 letters and digits in a row.
_SHAPE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    b"a" * 52 + b"0" * 10,
)
_DIGIT_AS_LETTER = bytes.maketrans(b"0", b"a")
_ALNUM_16_SHAPE = b"a" * 16
_ALNUM_26_SHAPE = b"a" * 26
# Outside ASCII: `[^\W\d_]` holds every character str.isalpha accepts (and a
# few more, which only makes the trigger fire more often).
_IBAN_START = re.compile(r"[0-9]{2}(?<=[^\W\d_]{2}[0-9]{2})")
# Ethereum 0x..., bech32 bc1..., base58 1... or 3... (whose digits run into
# a letter unless the whole address is digits).
_ETHEREUM_START = re.compile(r"(?<![0-9])0x")
_BASE58_START = re.compile(r"[13](?<![A-Za-z0-9][13])(?:[0-9]{25}|[0-9]*[A-Za-z])")
# An IPv6 address has two colons in a row, or else at least two colons with
# a group of one to four hex digits between them ("10:30" has neither).
_HEX_GROUP_BETWEEN_COLONS = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:", re.ASCII)
# The context words' regexes are case-insensitive over Unicode, where `i`
# also matches U+0130 and U+0131 (folding already turned the long s and the
# Kelvin sign into ASCII); these loose forms are substrings of every match.
_PASSPORT_WORD = re.compile(r"(?i)passport")
_DRIVER_LICENSE_WORD = re.compile(r"(?i)driv|licen|d\.?l")


def triggered(text: str, needed: frozenset[str] = TRIGGERS) -> frozenset[str]:
    """Return the `needed` triggers that fire on folded `text` (a superset of what can match)."""
    fired: set[str] = set()
    if EMAIL in needed and "@" in text:
        fired.add(EMAIL)
    # ASCII text (nearly every prompt) is read as bytes with every letter
    # mapped to `a` and every digit to `0`: bytes.translate and `in` run at
    # memory speed, where a regex or str.split costs several nanoseconds a
    # character.
    shape = text.encode().translate(_SHAPE) if text.isascii() else None
    # A codice fiscale may spell all its digits as letters: 16 ASCII letters
    # and digits in a row. Tokens that long are rare in prose, and an email
    # address or a URL seldom has 16 letters and digits in a row.
    if EU_CODICE_FISCALE in needed and (
        _ALNUM_16_SHAPE in shape.translate(_DIGIT_AS_LETTER)
        if shape is not None
        else any(len(token) >= 16 and _ALNUM_16.search(token) for token in text.split())
    ):
        fired.add(EU_CODICE_FISCALE)
    # A Washington licence may have no digit: WDL first.
    if (
        DRIVER_LICENSE in needed
        and ("WDL" in text or "wdl" in text)
        and _has_driver_license_word(text)
    ):
        fired.add(DRIVER_LICENSE)
    if shape is not None:
        first = shape.find(b"0")
        if first < 0:
            return frozenset(fired)
        end = shape.rfind(b"0") + 1
    else:
        span = digit_span(text)
        if span is None:
            return frozenset(fired)
        first, end = span
    # An IPv6 group pair starts one character before a colon at the earliest.
    colon = text.find(":") if IP_ADDRESS in needed else -1
    if colon >= 0 and ("::" in text or _HEX_GROUP_BETWEEN_COLONS.search(text, max(0, colon - 1))):
        fired.add(IP_ADDRESS)
    # IBAN: two letters, then the two check digits starting a run.
    if IBAN in needed and (
        b"aa00" in shape if shape is not None else _IBAN_START.search(text) is not None
    ):
        fired.add(IBAN)
    wanted = needed - fired

    # The digit patterns lie between the first digit and the last (their
    # lookbehinds still see the text before; base58's letter may follow).
    def has(pattern: re.Pattern[str], after: int = 0) -> bool:
        return pattern.search(text, first, end + after) is not None

    if CRYPTO in wanted and (
        ("0x" in text and _ETHEREUM_START.search(text))
        or "bc1" in text
        or "BC1" in text
        # A base58 address is 26 letters and digits in a row at least.
        or (
            (shape is None or _ALNUM_26_SHAPE in shape.translate(_DIGIT_AS_LETTER))
            and has(_BASE58_START, after=1)
        )
    ):
        fired.add(CRYPTO)
    if IP_ADDRESS in wanted and has(_DOTTED_QUAD):
        fired.add(IP_ADDRESS)
    if DRIVER_LICENSE in wanted and has(_CHAIN_4) and _has_driver_license_word(text):
        fired.add(DRIVER_LICENSE)
    # The rest need six digits at most three apart: the phone condition,
    # implied by each of the others and cheap (digits are rare in prose, and
    # a date or a phone number meets it at once), is the first test.
    if not has(_PHONE_DIGITS):
        return frozenset(fired)
    fired.add(PHONE)
    if (EU_NUMBER in wanted or PASSPORT in wanted) and has(_RUN_6):
        fired.add(EU_NUMBER)
        if PASSPORT in wanted and has(_RUN_8) and _has_passport_word(text):
            fired.add(PASSPORT)
    if (EU_NUMBER in wanted - fired or TAXPAYER_ID in wanted or CARD in wanted) and has(_CHAIN_8):
        fired.add(EU_NUMBER)
        if (TAXPAYER_ID in wanted or CARD in wanted) and has(_CHAIN_9):
            fired.add(TAXPAYER_ID)
            if CARD in wanted and has(_CHAIN_13):
                fired.add(CARD)
    return frozenset(fired & needed)


def _has_passport_word(text: str) -> bool:
    # A case-insensitive regex has no literal to skip to; ASCII text is
    # lowered and searched at memory speed instead.
    if text.isascii():
        return "passport" in text.lower()
    return _PASSPORT_WORD.search(text) is not None


def _has_driver_license_word(text: str) -> bool:
    if text.isascii():
        lowered = text.lower()
        return "driv" in lowered or "licen" in lowered or "dl" in lowered or "d.l" in lowered
    return _DRIVER_LICENSE_WORD.search(text) is not None
