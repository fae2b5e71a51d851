"""Held-out NER samples: other templates and another seed, never tuned on.

    heldout_samples(seed) -> list[Sample]

The rules of `gateway.proxy.pii.ner_rules` were tuned while reading the
errors on the NER section (`tests.pii_eval.ner_corpus`); these samples
check that what was learnt there carries over to text written differently.
They are generated when `make pii-eval` runs, not stored in corpus.jsonl, and
labelled as the NER section is: every PERSON, LOCATION and ORGANIZATION a
template inserts is a gold span, and the templates hold no other entity of
these types. Names, places and companies come from the NER section's seeded
Faker locales (`Fakers`); the sentence frames, the domains (support
tickets, medical notes, legal memos, Slack threads, CSV rows, JSON records,
invitations, invoices) and the hard negatives (medicines, software, headings,
verbs that are also first names at a sentence start) are their own.

Do not read the per-sample errors on these samples while changing the rules:
then they stop being held out. `make pii-eval` prints only their totals.
"""

from __future__ import annotations

import random
import re

from tests.pii_eval.corpus import Sample
from tests.pii_eval.ner_corpus import Words, build_samples

HELDOUT_SEED = 20270311
HELDOUT_SAMPLES = 600
HELDOUT_ID_PREFIX = "h"

_PRODUCTS = (
    "Slack", "Zoom", "GitHub", "Notion", "Confluence", "Datadog", "Snowflake", "BigQuery",
    "Okta", "Zendesk", "HubSpot", "Looker", "Sentry", "Metformin", "Lisinopril",
    "Ibuprofen", "Amoxicillin", "Atorvastatin", "Windows Server", "MacBook Pro",
)  # fmt: skip
_HEADINGS = (
    "Renewal Strategy", "Data Retention Policy", "Vendor Assessment", "Migration Plan",
    "Board Update", "Post Mortem", "Sprint Planning", "Hiring Committee", "Pricing Review",
    "Compliance Training",
)  # fmt: skip
_DATES = (
    "Tuesday", "Thursday", "Saturday", "Sunday", "February", "May", "July", "October",
    "November", "next Monday", "end of March",
)  # fmt: skip

# Slots as in ner_corpus: {P} full name, {F} first name, {T} title and
# surname, {L} place, {O} organisation; hard negatives {N} product or
# medicine, {H} heading, {D} day or month; {ID} a number, {TM} a clock time.
_TEMPLATES: tuple[tuple[str, str], ...] = (
    (
        "support",
        "[#{ID}] Refund request\nRequester: {P}\nAccount: {O}\n\n"
        "Charged twice for {N} since {D}. Please advise.\n",
    ),
    (
        "support",
        "Customer {P} wrote in from {L}: the {N} connector stops syncing after the update. "
        "Escalated to {F} on tier 2.",
    ),
    ("support", "Agent note: spoke with {T} at {O}; they will retry the import on {D}."),
    ("support", "Reassigned from {F} to {P}. Reason: {O} is a priority account in {L}."),
    ("support", "Grant {F} admin access to the {N} workspace for {O}, approved by {P}."),
    (
        "medical",
        "Pt. {P}, seen at the {L} clinic. Referred by {T}. Started on {N} 10 mg daily; "
        "review on {D}.",
    ),
    (
        "medical",
        "Patient: {P}\nPCP: {T}\nInsurer: {O}\nAssessment: stable, follow up in {D}.\n",
    ),
    (
        "medical",
        "{T} reviewed the scan with {F}'s daughter; the family asked to move care to {L}.",
    ),
    (
        "medical",
        "Discharge summary: {P} was admitted on {D} after a fall at home in {L}. "
        "Seen by {T} (cardiology). Continue {N}.",
    ),
    (
        "legal",
        "MEMORANDUM\nTo: {P}\nFrom: {P}\nRe: {O} v. {O}\n\n"
        "The court in {L} granted the motion on {D}. Counsel for the defendant, {T}, "
        "intends to appeal.\n",
    ),
    (
        "legal",
        "Under the engagement letter, {O} retains {O} to advise on the purchase of assets "
        "located in {L}.",
    ),
    ("legal", "The witness, {P}, testified that she first met {P} in {L} in {D}."),
    (
        "legal",
        'This agreement is made between {O} (the "Seller") and {P}, an individual residing '
        'in {L} (the "Buyer").',
    ),
    ("slack", "@{F} can you take a look? {O} is asking again :eyes:"),
    (
        "slack",
        "{F}  {TM}\nanyone know who at {O} handles renewals?\n"
        "{F}  {TM}\nI think it's {P}, ask in #sales\n",
    ),
    ("slack", "{P} shared the {N} runbook in the thread. +1 from {F} and {F}"),
    ("slack", "heads up, {F} is out until {D}, ping {P} for anything about {L}"),
    ("slack", "Chase {O} about the overdue invoice? {F} says they moved to {L}."),
    ("csv", 'id,name,company,city\n{ID},{P},"{O}",{L}\n{ID},{P},"{O}",{L}\n'),
    ("csv", "{P};{O};{L};{D}\n{P};{O};{L};{D}\n"),
    (
        "json",
        '{"id": {ID}, "contact": "{P}", "account": "{O}", "region": "{L}", "owner": "{F}"}',
    ),
    ("json", '[{"speaker": "{P}", "text": "I spoke with {F} about {N} yesterday."}]'),
    (
        "invite",
        "Invitation: {H} @ {D} {TM}\nOrganizer: {P}\nGuests: {P}, {P}\n"
        "Where: {O} headquarters, {L}\n",
    ),
    ("invoice", "INVOICE {ID}\nBill to: {P}\n{O}\n{L}\nTerms: net 30, due {D}\n"),
    ("hr", "{P} joins {O} as head of sales, based in {L} and reporting to {T}."),
    (
        "news",
        "According to {P}, a spokesperson for {O}, the plant near {L} will close by {D}.",
    ),
    ("calendar", "{F}'s one-on-one with {T} moved to {D} because of the {H}."),
    ("review", "LGTM. {F}, please squash before merging; {P} owns the {N} module now."),
)
_SLOT = re.compile(r"\{(P|F|T|L|O|N|H|D|ID|TM)\}")


def _other(rng: random.Random, kind: str) -> str:
    if kind == "TM":
        return f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} PM"
    return str(rng.randint(100, 99999))


def heldout_samples(seed: int = HELDOUT_SEED) -> list[Sample]:
    """Build the held-out samples from `seed`; the same seed gives the same samples."""
    words = Words(_PRODUCTS, _HEADINGS, _DATES, _other)
    return build_samples(seed, HELDOUT_SAMPLES, HELDOUT_ID_PREFIX, _TEMPLATES, _SLOT, words)
