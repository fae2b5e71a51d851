"""The NER section of the corpus: people, places and organisations in running text.

Appended after the validator samples with its own seed, RNG and Faker
instances, so the samples before it never change. Every PERSON, LOCATION and
ORGANIZATION a template inserts is labelled, and the templates hold no other
entity of these types, so all three types are scored on these samples (the
validator samples label only PERSON and ORGANIZATION). Names come from ten
Faker locales and appear whole, as a first name alone, or as a title and a
surname; the hard negatives are product names, weekdays and months, Title
Case headings, and capitalised common words at sentence starts ("Mark the
ticket", "Will you check").
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from faker import Faker
from faker.providers.address.en_US import Provider as UsAddress

from tests.pii_eval.corpus import Distractor, GoldSpan, Sample

NER_SEED = 20261125
NER_SAMPLES = 600
NER_ID_PREFIX = "n"

# (locale, weight): US English first, then the names an English-writing
# company meets in its mail and tickets.
_NAME_LOCALES = (
    ("en_US", 4),
    ("en_GB", 1),
    ("en_IN", 1),
    ("de_DE", 1),
    ("fr_FR", 1),
    ("es_ES", 1),
    ("it_IT", 1),
    ("pt_BR", 1),
    ("nl_NL", 1),
    ("pl_PL", 1),
)
_COMPANY_LOCALES = ("en_US", "en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES")
# Faker's en_US cities are invented ("Port Petertown"); these locales list real
# ones (it_IT's are real too, but drawn from a set, so they change per process).
_CITY_LOCALES = ("de_DE", "es_ES", "en_IN", "pl_PL")
_WORLD_CITIES = (
    "London", "Paris", "Berlin", "Madrid", "Rome", "Amsterdam", "Dublin", "Lisbon",
    "Warsaw", "Vienna", "Zurich", "Stockholm", "Oslo", "Copenhagen", "Helsinki", "Prague",
    "New York", "San Francisco", "Chicago", "Boston", "Seattle", "Austin", "Toronto",
    "Vancouver", "Mexico City", "Sao Paulo", "Buenos Aires", "Tokyo", "Singapore",
    "Sydney", "Melbourne", "Mumbai", "Bangalore", "Dubai", "Cape Town", "Nairobi",
)  # fmt: skip
_TITLES = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")

_PRODUCTS = (
    "Kubernetes", "PostgreSQL", "Excel", "Jira", "Terraform", "Docker", "Jenkins",
    "Windows 11", "Python", "Grafana", "Salesforce", "Figma", "Tableau", "Postman",
    "Outlook", "Chrome", "Android", "Redis", "Kafka", "Airflow",
)  # fmt: skip
_HEADINGS = (
    "Quarterly Business Review", "Release Notes", "Action Items", "Incident Report",
    "Budget Planning", "Onboarding Checklist", "Security Review", "Product Roadmap",
    "All Hands", "Customer Success Sync",
)  # fmt: skip
_DATES = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "January", "March", "April",
    "June", "August", "September", "December",
)  # fmt: skip

# Slots: {P} full name, {F} first name, {T} title and surname, {L} place,
# {O} organisation; hard negatives {N} product, {H} heading, {D} day or month;
# {TS} a log timestamp, {ID} a number.
_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("chat", "Can you ask {P} to send the signed contract to {O} before {D}?"),
    ("chat", "{P} from {O} called again about the invoice, can someone get back to them?"),
    ("chat", "I'm flying to {L} on {D} to meet {P} at the {O} office."),
    ("chat", "ping {F} about the {N} upgrade, it broke the staging cluster"),
    ("chat", "{N} keeps crashing on my laptop. {F} said it's a known issue."),
    ("chat", "Met with {P} and {P} in {L} yesterday; they want a demo of {N}."),
    ("chat", "Please loop in {T} from legal before we sign anything with {O}."),
    ("chat", "Sure, I'll forward it to {F}. Thanks!"),
    ("chat", "Our new office in {L} opens in {D}. {P} will run it."),
    ("chat", "Will you check whether {O} paid? Mark the ticket as done after."),
    ("chat", "Great call today! {F}, can you share the slides with {P}?"),
    ("chat", "lol {F} just moved to {L}"),
    ("chat", "who owns the {N} integration? I think it was {P} before they left for {O}"),
    ("chat", "Also, {T} wants the numbers for {L} and {L} by {D}."),
    ("chat", "Bill the {O} account for {D} and send the receipt to {P}."),
    (
        "email",
        "Hi {F},\n\nThanks for the update. {P} at {O} confirmed the shipment to {L}. "
        "Please check the {N} dashboard before {D}.\n\nBest,\n{P}\n",
    ),
    (
        "email",
        "Dear {T},\n\nI am writing on behalf of {O} about your visit to {L}. "
        "{P} will be your contact there.\n\nSincerely,\n{P}\n{O}\n",
    ),
    (
        "email",
        "Hello team,\n\nQuick reminder: the {H} is on {D}. Agenda: the {N} rollout, "
        "the {L} expansion and hiring.\n\nCheers,\n{F}\n",
    ),
    ("email", "{F} -\n\nCould you resend the report? {O} never received it.\n\nThx\n{F}\n"),
    (
        "email",
        "Good morning,\n\nFollowing our call, {O} agreed to move the workshop to {L}. "
        "{T} and {P} will attend.\n\nKind regards,\n{P}\n",
    ),
    ("ticket", "Ticket #{ID}: customer {P} ({O}, {L}) reports that {N} exports fail since {D}."),
    (
        "notes",
        "Attendees: {P}, {P}, {P}\nAction items:\n- {F} to follow up with {O}\n"
        "- {F} to book the venue in {L}\n",
    ),
    ("notes", "{H}\n\nOwner: {P}\nStatus: blocked on {O}\nNext review: {D}\n"),
    ("ticket", "Shipping to: {P}, {O}, {L}"),
    ("log", '{TS} INFO crm[{ID}]: contact created name="{P}" company="{O}" city="{L}"'),
    ("log", "{TS} WARN auth[{ID}]: login from {L} for user {P} blocked"),
    ("json", '{"customer": {"full_name": "{P}", "employer": "{O}", "city": "{L}"}, "plan": "{N}"}'),
    ("json", '{"ticket": {ID}, "assignee": "{P}", "reporter": "{P}", "component": "{N}"}'),
    ("chat", "{H}: {P} presented the {L} numbers and {O} asked for a follow-up on {D}."),
    ("chat", "Thanks {F}! Will do. {N} is back up, {O} confirmed on their side."),
)
_SLOT = re.compile(r"\{(P|F|T|L|O|N|H|D|TS|ID)\}")


class Fakers:
    """One seeded Faker per locale, all drawn through one RNG."""

    def __init__(self, seed: int) -> None:
        locales = {locale for locale, _ in _NAME_LOCALES}
        locales.update(_COMPANY_LOCALES, _CITY_LOCALES)
        self.by_locale: dict[str, Faker] = {}
        for number, locale in enumerate(sorted(locales)):
            fake = Faker(locale)
            fake.seed_instance(seed + number)
            self.by_locale[locale] = fake
        self.countries = sorted({c for c in UsAddress.countries if not re.search(r"[(),]", c)})

    def name(self, rng: random.Random, form: str) -> tuple[str, str]:
        locale = rng.choices([loc for loc, _ in _NAME_LOCALES], [w for _, w in _NAME_LOCALES])[0]
        fake = self.by_locale[locale]
        first, last = fake.first_name(), fake.last_name()
        if form == "F":
            return first, f"{locale}/first"
        if form == "T":
            return f"{rng.choice(_TITLES)} {last}", f"{locale}/title"
        return f"{first} {last}", f"{locale}/full"

    def place(self, rng: random.Random) -> tuple[str, str]:
        kind = rng.choice(("city", "city", "world_city", "country", "us_state"))
        if kind == "city":
            return self.by_locale[rng.choice(_CITY_LOCALES)].city(), kind
        if kind == "world_city":
            return rng.choice(_WORLD_CITIES), kind
        if kind == "country":
            return rng.choice(self.countries), kind
        return self.by_locale["en_US"].state(), kind

    def company(self, rng: random.Random) -> tuple[str, str]:
        locale = rng.choice(_COMPANY_LOCALES)
        return self.by_locale[locale].company(), locale


@dataclass(frozen=True)
class Words:
    """The hard negatives a set of templates draws from, and its other slots' values."""

    products: tuple[str, ...]  # {N}
    headings: tuple[str, ...]  # {H}
    dates: tuple[str, ...]  # {D}
    # Any other slot ({ID}, {TS}, {TM}...): its value, neither entity nor negative.
    other: Callable[[random.Random, str], str]


def fill(
    rng: random.Random, fakers: Fakers, template: str, slot: re.Pattern[str], words: Words
) -> tuple[str, list[GoldSpan], list[Distractor]]:
    """Fill `template`'s slots; return the text, its gold spans and its hard negatives."""
    parts: list[str] = []
    spans: list[GoldSpan] = []
    distractors: list[Distractor] = []
    length = 0
    position = 0
    for found in slot.finditer(template):
        literal = template[position : found.start()]
        parts.append(literal)
        length += len(literal)
        position = found.end()
        kind = found.group(1)
        entity: str | None = None
        if kind in ("P", "F", "T"):
            (value, variant), entity = fakers.name(rng, kind), "PERSON"
        elif kind == "L":
            (value, variant), entity = fakers.place(rng), "LOCATION"
        elif kind == "O":
            (value, variant), entity = fakers.company(rng), "ORGANIZATION"
        elif kind == "N":
            value, variant = rng.choice(words.products), "product_name"
        elif kind == "H":
            value, variant = rng.choice(words.headings), "title_case_heading"
        elif kind == "D":
            value, variant = rng.choice(words.dates), "weekday_or_month"
        else:
            value, variant = words.other(rng, kind), ""
        if entity is not None:
            spans.append(
                GoldSpan(entity=entity, start=length, end=length + len(value), variant=variant)
            )
        elif variant:
            distractors.append(Distractor(kind=variant, start=length, end=length + len(value)))
        parts.append(value)
        length += len(value)
    parts.append(template[position:])
    return "".join(parts), spans, distractors


def build_samples(
    seed: int,
    count: int,
    id_prefix: str,
    templates: tuple[tuple[str, str], ...],
    slot: re.Pattern[str],
    words: Words,
) -> list[Sample]:
    """`count` samples from `templates`, drawn with `seed`: the same seed, the same samples."""
    rng = random.Random(seed)
    fakers = Fakers(seed)
    samples: list[Sample] = []
    for number in range(1, count + 1):
        template, pattern = rng.choice(templates)
        text, spans, distractors = fill(rng, fakers, pattern, slot, words)
        samples.append(
            Sample(
                id=f"{id_prefix}{number:05d}",
                template=template,
                text=text,
                spans=spans,
                distractors=distractors,
            )
        )
    return samples


def _other(rng: random.Random, kind: str) -> str:
    if kind == "TS":
        stamp = datetime(2025, 1, 1) + (datetime(2026, 1, 1) - datetime(2025, 1, 1)) * rng.random()
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(rng.randint(100, 99999))


def ner_samples(seed: int = NER_SEED) -> list[Sample]:
    """Build the NER section from `seed`; the same seed gives the same samples."""
    words = Words(_PRODUCTS, _HEADINGS, _DATES, _other)
    return build_samples(seed, NER_SAMPLES, NER_ID_PREFIX, _TEMPLATES, _SLOT, words)
