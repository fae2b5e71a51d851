"""Generate valid PII values, and invalid look-alikes, from a seeded random source.

Every positive value is checked by the same rule its entity type is defined by
(Luhn, mod 97, python-stdnum, phonenumbers, ipaddress), so a gold span is
never a value that a correct detector should reject.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import string
from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

import phonenumbers
from faker import Faker
from stdnum import iban


class Value(NamedTuple):
    """A generated string and the variant it belongs to ("visa/spaced")."""

    text: str
    variant: str


Generator = Callable[[random.Random, Faker], Value]


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def luhn_check_digit(partial: str) -> str:
    """Return the digit that makes `partial` + digit pass the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def birth_date(rng: random.Random, first: int = 1950, last: int = 1999) -> date:
    start = date(first, 1, 1)
    return start + timedelta(days=rng.randrange((date(last, 12, 31) - start).days))


# Credit cards -----------------------------------------------------------------

_CARD_BRANDS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("visa", ("4",), 16),
    ("visa13", ("4",), 13),
    ("mastercard", ("51", "52", "53", "54", "55"), 16),
    ("mastercard2", ("2221", "2500", "2720"), 16),
    ("amex", ("34", "37"), 15),
    ("discover", ("6011", "65"), 16),
    ("jcb", ("3528", "3566", "3589"), 16),
    ("diners", ("36", "300", "305"), 14),
    ("unionpay", ("62",), 16),
    ("maestro", ("6759", "5018"), 19),
)


def _group(number: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(number[position : position + size])
        position += size
    if position < len(number):
        parts.append(number[position:])
    return separator.join(parts)


def _card_layout(number: str) -> tuple[int, ...]:
    if len(number) == 15:
        return (4, 6, 5)
    if len(number) == 14:
        return (4, 6, 4)
    if len(number) == 13:
        return (4, 3, 3, 3)
    return (4, 4, 4, 4)


def _format_card(rng: random.Random, number: str) -> tuple[str, str]:
    layout = rng.choice(("plain", "spaced", "dashed"))
    if layout == "plain":
        return number, layout
    return _group(number, _card_layout(number), " " if layout == "spaced" else "-"), layout


def credit_card(rng: random.Random, fake: Faker) -> Value:
    brand, prefixes, length = rng.choice(_CARD_BRANDS)
    partial = rng.choice(prefixes)
    partial += digits(rng, length - 1 - len(partial))
    text, layout = _format_card(rng, partial + luhn_check_digit(partial))
    return Value(text, f"{brand}/{layout}")


def luhn_failing_card(rng: random.Random, fake: Faker) -> Value:
    """A card-shaped number of a real brand prefix whose Luhn check fails."""
    _, prefixes, length = rng.choice(_CARD_BRANDS[:6])
    partial = rng.choice(prefixes)
    partial += digits(rng, length - 1 - len(partial))
    wrong = (int(luhn_check_digit(partial)) + rng.randint(1, 9)) % 10
    return Value(_format_card(rng, partial + str(wrong))[0], "luhn_failing_card")


# US taxpayer ids --------------------------------------------------------------

_ITIN_GROUPS = (*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100))


def _taxpayer_text(rng: random.Random, area: int, group: int, serial: int) -> tuple[str, str]:
    layout = rng.choices(("dashed", "plain", "spaced"), weights=(6, 2, 2))[0]
    separator = {"dashed": "-", "plain": "", "spaced": " "}[layout]
    return f"{area:03d}{separator}{group:02d}{separator}{serial:04d}", layout


def us_ssn(rng: random.Random, fake: Faker) -> Value:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    text, layout = _taxpayer_text(rng, area, rng.randint(1, 99), rng.randint(1, 9999))
    return Value(text, layout)


def us_itin(rng: random.Random, fake: Faker) -> Value:
    text, layout = _taxpayer_text(
        rng, rng.randint(900, 999), rng.choice(_ITIN_GROUPS), rng.randint(0, 9999)
    )
    return Value(text, layout)


def invalid_ssn(rng: random.Random, fake: Faker) -> Value:
    """Dash-formatted, SSN-shaped, and invalid: area 000/666, group 00, serial 0000."""
    area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
    broken = rng.choice(("area000", "area666", "group00", "serial0000", "itin_group"))
    if broken == "area000":
        area = 0
    elif broken == "area666":
        area = 666
    elif broken == "group00":
        group = 0
    elif broken == "serial0000":
        serial = 0
    else:
        area, group = rng.randint(900, 999), rng.choice((*range(1, 50), 66, 67, 68, 69, 89, 93))
    return Value(f"{area:03d}-{group:02d}-{serial:04d}", f"invalid_ssn/{broken}")


# IBAN -------------------------------------------------------------------------

# Country, BBAN shape: "n" a digit, "a" an upper-case letter, "c" either.
_IBAN_SHAPES: dict[str, str] = {
    "DE": "n" * 18,
    "GB": "aaaa" + "n" * 14,
    "FR": "n" * 10 + "c" * 11 + "nn",
    "NL": "aaaa" + "n" * 10,
    "IT": "a" + "n" * 10 + "c" * 12,
    "CH": "n" * 5 + "c" * 12,
    "PL": "n" * 24,
    "AT": "n" * 16,
    "SE": "n" * 20,
    "IE": "aaaa" + "n" * 14,
}


def _iban_for(rng: random.Random, country: str) -> str:
    alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits * 3 + "ABCXYZ"}
    while True:
        bban = "".join(rng.choice(alphabet[kind]) for kind in _IBAN_SHAPES[country])
        number = country + "00" + bban
        number = country + iban.calc_check_digits(number) + bban
        if iban.is_valid(number):
            return number


def iban_number(rng: random.Random, fake: Faker) -> Value:
    country = rng.choice(sorted(_IBAN_SHAPES))
    number = _iban_for(rng, country)
    if rng.random() < 0.5:
        return Value(iban.format(number), f"{country}/printed")
    return Value(number, f"{country}/compact")


def iban_bad_checksum(rng: random.Random, fake: Faker) -> Value:
    number = _iban_for(rng, rng.choice(sorted(_IBAN_SHAPES)))
    wrong = f"{(int(number[2:4]) + rng.randint(1, 90)) % 97 + 2:02d}"
    return Value(number[:2] + wrong + number[4:], "iban_bad_checksum")


# Email, IP --------------------------------------------------------------------


def email_address(rng: random.Random, fake: Faker) -> Value:
    kind = rng.choice(("free", "company", "plus", "subdomain", "dotted"))
    if kind == "free":
        return Value(fake.free_email(), kind)
    if kind == "company":
        return Value(fake.company_email(), kind)
    user = fake.user_name()
    if kind == "plus":
        return Value(f"{user}+{fake.word()}@{fake.free_email_domain()}", kind)
    if kind == "subdomain":
        return Value(f"{user}@mail.{fake.domain_name()}", kind)
    return Value(
        f"{fake.first_name().lower()}.{fake.last_name().lower()}@{fake.domain_name()}", kind
    )


def ip_address(rng: random.Random, fake: Faker) -> Value:
    kind = rng.choice(("v4_public", "v4_private", "v6_full", "v6_compressed", "v6_mapped"))
    if kind == "v4_public":
        return Value(fake.ipv4_public(), kind)
    if kind == "v4_private":
        return Value(fake.ipv4_private(), kind)
    address = ipaddress.IPv6Address(fake.ipv6())
    if kind == "v6_full":
        return Value(address.exploded, kind)
    if kind == "v6_compressed":
        prefix = rng.choice(("2001:db8", "fe80", "2600:1f18", "2a00:1450"))
        return Value(f"{prefix}::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}", kind)
    return Value(f"::ffff:{fake.ipv4_public()}", kind)


# Phone numbers ----------------------------------------------------------------

_PHONE_REGIONS = ("US", "US", "US", "GB", "DE", "FR", "IN", "BR", "AU", "JP", "ES", "MX")


def _valid_phone(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    kind = rng.choice(
        (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = str(example.national_number)
    while True:
        keep = max(2, len(national) - 7)
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:keep] + digits(rng, len(national) - keep)),
        )
        if phonenumbers.is_valid_number(candidate):
            return candidate


def phone_number(rng: random.Random, fake: Faker) -> Value:
    region = rng.choice(_PHONE_REGIONS)
    number = _valid_phone(rng, region)
    extension = rng.random() < 0.2
    if extension:
        number.extension = str(rng.randint(10, 9999))
    if region == "US":
        layout = rng.choice(("national", "dashed", "dotted", "international", "e164"))
    else:
        layout = rng.choices(("international", "e164", "national"), weights=(6, 2, 2))[0]
    fmt = phonenumbers.PhoneNumberFormat
    if layout in ("national", "international", "e164"):
        chosen = {"national": fmt.NATIONAL, "international": fmt.INTERNATIONAL, "e164": fmt.E164}
        text = phonenumbers.format_number(number, chosen[layout])
    else:
        national = str(number.national_number)
        separator = "-" if layout == "dashed" else "."
        text = separator.join((national[:3], national[3:6], national[6:]))
        if extension:
            text += rng.choice((" ext. ", " x", " ext ")) + (number.extension or "")
    if layout == "e164" and extension:
        text += f" x{number.extension}"
    suffix = "/ext" if extension else ""
    return Value(text, f"{region}/{layout}{suffix}")


def invalid_phone(rng: random.Random, fake: Faker) -> Value:
    """NANP-shaped numbers with an area or exchange code starting 0 or 1.

    Checked with phonenumbers too: some area codes belong to other NANP
    countries whose rules differ, and a valid number is no negative.
    """
    while True:
        area = rng.choice("01") + digits(rng, 2)
        exchange = rng.choice("23456789") + digits(rng, 2)
        if rng.random() < 0.5:
            area, exchange = (
                rng.choice("23456789") + digits(rng, 2),
                rng.choice("01") + digits(rng, 2),
            )
        layout = rng.choice(("({0}) {1}-{2}", "{0}-{1}-{2}", "{0}.{1}.{2}"))
        text = layout.format(area, exchange, digits(rng, 4))
        if not phonenumbers.is_valid_number(phonenumbers.parse(text, "US")):
            return Value(text, "invalid_phone")


# Crypto -----------------------------------------------------------------------

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _base58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number, encoded = int.from_bytes(raw, "big"), ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = _BASE58[remainder] + encoded
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + encoded


def _bech32_polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(generators):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _segwit_address(version: int, program: bytes) -> str:
    data, accumulator, bits = [version], 0, 0
    for byte in program:
        accumulator, bits = (accumulator << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((accumulator >> bits) & 31)
    if bits:
        data.append((accumulator << (5 - bits)) & 31)
    constant = 1 if version == 0 else 0x2BC830A3
    expanded = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    polymod = _bech32_polymod(expanded + data + [0] * 6) ^ constant
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(_BECH32[value] for value in data + checksum)


def crypto_address(rng: random.Random, fake: Faker) -> Value:
    kind = rng.choice(("btc_p2pkh", "btc_p2sh", "btc_segwit", "btc_taproot", "eth"))
    body = rng.randbytes(32 if kind == "btc_taproot" else 20)
    if kind == "btc_p2pkh":
        return Value(_base58check(b"\x00" + body), kind)
    if kind == "btc_p2sh":
        return Value(_base58check(b"\x05" + body), kind)
    if kind in ("btc_segwit", "btc_taproot"):
        return Value(_segwit_address(0 if kind == "btc_segwit" else 1, body), kind)
    return Value("0x" + body.hex(), kind)


# US passport and driver's licence ---------------------------------------------


def us_passport(rng: random.Random, fake: Faker) -> Value:
    if rng.random() < 0.5:
        return Value(digits(rng, 9), "digits9")
    return Value(rng.choice(string.ascii_uppercase) + digits(rng, 8), "letter8")


def us_driver_license(rng: random.Random, fake: Faker) -> Value:
    state = rng.choice(("CA", "NY", "TX", "FL", "IL", "WA", "PA", "MI"))
    letter = rng.choice(string.ascii_uppercase)
    if state == "CA":
        text = letter + digits(rng, 7)
    elif state in ("NY", "PA"):
        text = digits(rng, 9 if state == "NY" else 8)
    elif state == "TX":
        text = digits(rng, 8)
    elif state == "FL":
        d = digits(rng, 12)
        text = f"{letter}{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:11]}-{d[11]}"
    elif state == "IL":
        d = digits(rng, 11)
        text = f"{letter}{d[:3]}-{d[3:7]}-{d[7:]}"
    elif state == "WA":
        text = "WDL" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(9))
    else:
        text = letter + digits(rng, 12)
    return Value(text, state)
