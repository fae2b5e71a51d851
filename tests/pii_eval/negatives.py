"""Generate hard negatives: strings shaped like PII that no detector should report."""

from __future__ import annotations

import random
import string
from datetime import date

from faker import Faker

from tests.pii_eval.values import (
    Generator,
    Value,
    digits,
    iban_bad_checksum,
    invalid_phone,
    invalid_ssn,
    luhn_failing_card,
)


def order_id(rng: random.Random, fake: Faker) -> Value:
    layout = rng.choice(("ORD-{y}-{n6}", "#{n8}", "PO{n10}", "INV-{n4}-{n5}", "order {n9}"))
    text = layout.format(
        y=rng.randint(2019, 2026),
        n4=digits(rng, 4),
        n5=digits(rng, 5),
        n6=digits(rng, 6),
        n8=digits(rng, 8),
        n9=digits(rng, 9),
        n10=digits(rng, 10),
    )
    return Value(text, "order_id")


def version_number(rng: random.Random, fake: Faker) -> Value:
    parts = [str(rng.randint(0, 30)) for _ in range(rng.choice((3, 4)))]
    return Value(rng.choice(("v", "version ", "")) + ".".join(parts), "version")


def tracking_number(rng: random.Random, fake: Faker) -> Value:
    kind = rng.choice(("ups", "fedex", "usps"))
    if kind == "ups":
        tail = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        return Value("1Z" + tail, "tracking/ups")
    if kind == "fedex":
        return Value(digits(rng, 12), "tracking/fedex")
    return Value("9400" + digits(rng, 18), "tracking/usps")


def date_text(rng: random.Random, fake: Faker) -> Value:
    day = fake.date_between(start_date=date(1996, 1, 1), end_date=date(2026, 12, 31))
    layout = rng.choice(("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%Y-%m-%dT%H:%M:%SZ"))
    return Value(day.strftime(layout), "date")


def price(rng: random.Random, fake: Faker) -> Value:
    amount = f"{rng.randint(1, 99999):,}.{rng.randint(0, 99):02d}"
    return Value(rng.choice(("$", "€", "£", "USD ")) + amount, "price")


def uuid_text(rng: random.Random, fake: Faker) -> Value:
    return Value(str(fake.uuid4()), "uuid")


def hex_digest(rng: random.Random, fake: Faker) -> Value:
    return Value(rng.randbytes(rng.choice((20, 32))).hex(), "hex_digest")


NEGATIVES: tuple[Generator, ...] = (
    order_id,
    version_number,
    tracking_number,
    luhn_failing_card,
    date_text,
    price,
    uuid_text,
    invalid_ssn,
    invalid_phone,
    iban_bad_checksum,
    hex_digest,
)
