"""Generate the labeled PII corpus: templates filled with seeded Faker and values.

    python -m tests.pii_eval.corpus --write   # regenerate corpus.jsonl

Each sample is one text (a chat message, key=value config, a JSON snippet,
log lines or an email) with its gold spans. The validator entity types get
at least PER_TYPE instances each; at least NEGATIVE_SHARE of the samples hold
no validator entity, only hard negatives (order ids, versions, tracking
numbers, Luhn-failing card numbers, dates, prices, UUIDs, invalid SSNs and
phone numbers, IBANs with a wrong check). Person and organisation names the
templates insert are labelled PERSON and ORGANIZATION. The NER section
(tests/pii_eval/ner_corpus.py, ids n00001...) follows them and labels PERSON,
LOCATION and ORGANIZATION in running text, with hard negatives of its own.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from faker import Faker

from tests.pii_eval.eu_ids import EU_IDS, eu_national_id
from tests.pii_eval.negatives import NEGATIVES
from tests.pii_eval.values import (
    Generator,
    Value,
    credit_card,
    crypto_address,
    email_address,
    iban_number,
    ip_address,
    phone_number,
    us_driver_license,
    us_itin,
    us_passport,
    us_ssn,
)

SEED = 20261124
PER_TYPE = 300
NEGATIVE_SHARE = 0.25
CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")
# Labelled by the templates and scored by `make pii-eval` with NER on.
NER_TYPES = ("PERSON", "ORGANIZATION", "LOCATION")

POSITIVES: dict[str, Generator] = {
    "CREDIT_CARD": credit_card,
    "US_SSN": us_ssn,
    "US_ITIN": us_itin,
    "IBAN": iban_number,
    "EMAIL": email_address,
    "PHONE": phone_number,
    "IP_ADDRESS": ip_address,
    "CRYPTO": crypto_address,
    "EU_NATIONAL_ID": eu_national_id,
    "US_PASSPORT": us_passport,
    "US_DRIVER_LICENSE": us_driver_license,
}


class GoldSpan(TypedDict):
    entity: str
    start: int
    end: int
    variant: str


class Distractor(TypedDict):
    kind: str
    start: int
    end: int


class Sample(TypedDict):
    id: str
    template: str
    text: str
    spans: list[GoldSpan]
    distractors: list[Distractor]


class _Item:
    """A value to place in a text, with the words that introduce it."""

    def __init__(self, entity: str | None, value: Value, label: str, key: str) -> None:
        self.entity, self.value, self.label, self.key = entity, value, label, key


# entity -> (labels written before the value in prose, keys in config/JSON/logs)
_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CREDIT_CARD": (
        ("card number", "credit card", "Visa", "card", "payment card"),
        ("card_number", "cc", "cardNumber", "pan"),
    ),
    "US_SSN": (("SSN", "social security number", "Social Security No."), ("ssn", "SSN")),
    "US_ITIN": (("ITIN", "taxpayer id", "tax ID"), ("itin", "tax_id", "TIN")),
    "IBAN": (("IBAN", "bank account", "account"), ("iban", "bank_account", "IBAN")),
    "EMAIL": (("email", "e-mail", "address"), ("email", "contact_email", "user")),
    "PHONE": (("phone", "mobile", "tel.", "number"), ("phone", "mobile", "tel")),
    "IP_ADDRESS": (("IP", "client address", "host"), ("client_ip", "remote_addr", "ip")),
    "CRYPTO": (("wallet", "deposit address", "address"), ("wallet", "payout_address")),
    "US_PASSPORT": (
        ("passport number", "passport no.", "Passport #", "US passport"),
        ("passport_number", "passport", "passportNo"),
    ),
    "US_DRIVER_LICENSE": (
        ("driver's license", "DL#", "driver license number", "license no."),
        ("drivers_license", "dl_number", "license_number", "DL"),
    ),
    "order_id": (("order", "order number"), ("order_id", "order")),
    "version": (("version", "release"), ("version", "app_version")),
    "tracking": (("tracking number", "shipment"), ("tracking", "tracking_number")),
    "luhn_failing_card": (("card number", "reference", "ticket"), ("card_number", "ref")),
    "date": (("date", "due on"), ("date", "created_at")),
    "price": (("total", "price"), ("amount", "price")),
    "uuid": (("request id", "trace"), ("request_id", "trace_id")),
    "invalid_ssn": (("SSN", "employee id", "case number"), ("ssn", "employee_id")),
    "invalid_phone": (("phone", "code"), ("phone", "code")),
    "iban_bad_checksum": (("IBAN", "transfer reference"), ("iban", "payment_ref")),
    "hex_digest": (("commit", "sha256"), ("commit", "checksum")),
}
_EU_LABELS = {name: context for name, _, _, context in EU_IDS}

_PROSE = (
    "My {label} is {value}.",
    "Please update the {label} to {value} asap.",
    "{Label}: {value}",
    "can you check {label} {value}? thanks",
    "I think the {label} ({value}) is wrong.",
    "The {label} we have on file is {value}, is that right?",
)
_KEY_VALUE = ("{key}={value}", "{key}: {value}", '{KEY}="{value}"', "{key} = {value}")
_LOG = ("{key}={value}", '{key}="{value}"', "{key}:{value}")
_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")


class _Builder:
    """Append text pieces while recording where gold values land."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[GoldSpan] = []
        self.distractors: list[Distractor] = []

    def text(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def labelled(self, entity: str, piece: str, variant: str = "") -> None:
        self.spans.append(
            GoldSpan(
                entity=entity, start=self.length, end=self.length + len(piece), variant=variant
            )
        )
        self.text(piece)

    def item(self, pattern: str, item: _Item) -> None:
        """Write `pattern` with {label}/{key} filled and the value recorded where {value} is."""
        label = item.label
        fields = {
            "label": label,
            "Label": label[:1].upper() + label[1:],
            "key": item.key,
            "KEY": item.key.upper(),
        }
        before, after = pattern.split("{value}")
        self.text(before.format(**fields))
        start = self.length
        if item.entity is None:
            self.distractors.append(
                Distractor(kind=item.value.variant, start=start, end=start + len(item.value.text))
            )
            self.text(item.value.text)
        else:
            self.labelled(item.entity, item.value.text, item.value.variant)
        self.text(after.format(**fields))


def _person(builder: _Builder, fake: Faker) -> None:
    builder.labelled("PERSON", fake.name())


def _chat(rng: random.Random, fake: Faker, items: list[_Item]) -> _Builder:
    builder = _Builder()
    builder.text(rng.choice(("Hi, ", "Hello! ", "hey - ", "")))
    if rng.random() < 0.4:
        builder.text("this is ")
        _person(builder, fake)
        builder.text(". ")
    for item in items:
        builder.item(rng.choice(_PROSE), item)
        builder.text(" " + (fake.sentence() + " " if rng.random() < 0.4 else ""))
    return builder


def _key_value(rng: random.Random, fake: Faker, items: list[_Item]) -> _Builder:
    builder = _Builder()
    builder.text(f"# {fake.word()} settings\nregion=us-east-{rng.randint(1, 2)}\n")
    for item in items:
        builder.item(rng.choice(_KEY_VALUE), item)
        builder.text("\n")
    builder.text(f"timeout_ms={rng.randint(100, 30000)}\n")
    return builder


def _json(rng: random.Random, fake: Faker, items: list[_Item]) -> _Builder:
    builder = _Builder()
    builder.text(f'{{"id": {rng.randint(1, 99999)}, "name": "')
    _person(builder, fake)
    builder.text('"')
    for item in items:
        builder.item(', "{key}": "{value}"', item)
    builder.text(f', "active": {rng.choice(("true", "false"))}}}')
    return builder


def _log(rng: random.Random, fake: Faker, items: list[_Item]) -> _Builder:
    builder = _Builder()
    stamp = fake.date_time_between(
        start_date=datetime(2024, 1, 1), end_date=datetime(2026, 1, 1)
    ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    service = rng.choice(("auth", "billing", "api", "checkout", "worker"))
    builder.text(f"{stamp} {rng.choice(_LEVELS)} {service}[{rng.randint(100, 65000)}]: ")
    builder.text(rng.choice(("request done", "validation failed", "retrying", "user updated")))
    for item in items:
        builder.item(" " + rng.choice(_LOG), item)
    builder.text(f" latency_ms={rng.randint(1, 900)}")
    return builder


def _email(rng: random.Random, fake: Faker, items: list[_Item]) -> _Builder:
    builder = _Builder()
    builder.text("From: ")
    _person(builder, fake)
    builder.text(" <")
    builder.labelled("EMAIL", fake.company_email(), "sender")
    builder.text(f">\nSubject: {fake.sentence(nb_words=4)}\n\nDear ")
    _person(builder, fake)
    builder.text(",\n\n")
    for item in items:
        builder.item(rng.choice(_PROSE), item)
        builder.text("\n")
    builder.text("\nKind regards,\n")
    _person(builder, fake)
    builder.text("\n")
    builder.labelled("ORGANIZATION", fake.company())
    builder.text("\n")
    return builder


_TEMPLATES = {"chat": _chat, "kv": _key_value, "json": _json, "log": _log, "email": _email}


def _positive(rng: random.Random, fake: Faker, entity: str) -> _Item:
    value = POSITIVES[entity](rng, fake)
    if entity == "EU_NATIONAL_ID":
        label = _EU_LABELS[value.variant]
        key = label.lower().replace(" ", "_").replace("-", "_")
        return _Item(entity, value, label, rng.choice((key, "national_id")))
    labels, keys = _LABELS[entity]
    return _Item(entity, value, rng.choice(labels), rng.choice(keys))


def _negative(rng: random.Random, fake: Faker) -> _Item:
    value = rng.choice(NEGATIVES)(rng, fake)
    labels, keys = _LABELS[value.variant.split("/")[0]]
    return _Item(None, value, rng.choice(labels), rng.choice(keys))


def _sample(rng: random.Random, fake: Faker, items: list[_Item]) -> Sample:
    rng.shuffle(items)
    template = rng.choice(sorted(_TEMPLATES))
    builder = _TEMPLATES[template](rng, fake, items)
    return Sample(
        id="",
        template=template,
        text="".join(builder.parts),
        spans=builder.spans,
        distractors=builder.distractors,
    )


def generate(seed: int = SEED) -> list[Sample]:
    """Build the whole corpus from `seed`; the same seed gives the same corpus."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    samples: list[Sample] = []
    for entity in sorted(POSITIVES):
        for _ in range(PER_TYPE):
            items = [_positive(rng, fake, entity)]
            if rng.random() < 0.3:
                items.append(_positive(rng, fake, rng.choice(sorted(POSITIVES))))
            if rng.random() < 0.3:
                items.append(_negative(rng, fake))
            samples.append(_sample(rng, fake, items))
    negatives = round(len(samples) * NEGATIVE_SHARE / (1 - NEGATIVE_SHARE))
    for _ in range(negatives):
        items = [_negative(rng, fake) for _ in range(rng.randint(1, 3))]
        samples.append(_sample(rng, fake, items))
    rng.shuffle(samples)
    for number, sample in enumerate(samples, 1):
        sample["id"] = f"s{number:05d}"
    # The NER section comes after, from its own seed and RNG, so the samples
    # above stay byte for byte what they were before it existed. Imported
    # here because ner_corpus imports this module's sample types.
    from tests.pii_eval.ner_corpus import ner_samples

    return [*samples, *ner_samples()]


def load(path: Path = CORPUS_PATH) -> list[Sample]:
    """Read the committed corpus."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def write(samples: list[Sample], path: Path = CORPUS_PATH) -> None:
    """Write one sample per line, keys in a fixed order, so diffs stay readable."""
    with path.open("w", encoding="utf-8") as out:
        for sample in samples:
            out.write(json.dumps(sample, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    samples = generate()
    if "--write" in argv:
        write(samples)
        print(f"wrote {len(samples)} samples to {CORPUS_PATH}")
    elif "--check" in argv:
        same = CORPUS_PATH.exists() and load() == samples
        print("corpus.jsonl is up to date" if same else "corpus.jsonl differs from the generator")
        return 0 if same else 1
    else:
        print("usage: python -m tests.pii_eval.corpus --write | --check")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
