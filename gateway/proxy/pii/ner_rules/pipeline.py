"""Run the rules over the model's spans in order: `refine`, and the model's LABELS.

Sure spans come from cues, fields, firms and legal forms; the model's spans
are split into lines, tidied, made companies or places where the text says
so, and extended; then overlaps are resolved and neighbours joined.
"""

from __future__ import annotations

import re

from gateway.proxy.pii.ner_rules.organizations import (
    FIRM_LINE,
    FOUNDERS,
    ORG_OF,
    companies,
    company_span,
    firm_lists,
)
from gateway.proxy.pii.ner_rules.overlaps import coordinated_with_person, joined, keep_apart
from gateway.proxy.pii.ner_rules.people import cued_names, extend
from gateway.proxy.pii.ner_rules.places import PLACE_BEFORE, THING, cued_fields
from gateway.proxy.pii.ner_rules.text import lines
from gateway.proxy.pii.ner_rules.tidying import tidy

LABELS = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
}
# A span that opens with a title names a person, even after "in" or "near".
_HONORIFIC_FIRST = re.compile(r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.? ")


def refine(text: str, spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Turn the model's (label, start, end) spans into (entity, start, end) ones, by start.

    Spans found by a cue, a field, a firm's name or a legal form are sure:
    they replace the model's spans they overlap. Then a longer span beats a
    shorter one, and neighbours that make one name are joined.
    """
    sure: list[tuple[str, int, int]] = [
        *cued_names(text),
        *cued_fields(text),
        *(("ORGANIZATION", *firm.span(1)) for firm in FIRM_LINE.finditer(text)),
        *firm_lists(text, spans),
        *(("ORGANIZATION", *org.span()) for org in ORG_OF.finditer(text)),
        *companies(text),
    ]
    guessed: list[tuple[str, int, int]] = []
    for label, start, end in spans:
        entity = LABELS.get(label)
        if entity is None:
            continue
        for line_start, line_end in lines(start, text[start:end]):
            span = tidy(text, entity, line_start, line_end)
            if span is None:
                continue
            company = company_span(text, *span)
            if company is not None:
                sure.append(("ORGANIZATION", *company))
            elif (
                entity == "PERSON"
                and PLACE_BEFORE.search(text[max(0, span[0] - 30) : span[0]])
                and not _HONORIFIC_FIRST.match(text, *span)
                and text[span[1] : span[1] + 2] not in ("'s", "\u2019s")
            ):
                guessed.append(("LOCATION", *span))
            else:
                found, start, end = extend(text, entity, *span)
                # One double-barrelled word, with no first name or title, is
                # a firm named for its founders ("Hewlett-Packard"): people
                # are seldom written so.
                if found == "PERSON" and FOUNDERS.fullmatch(text, start, end):
                    found = "ORGANIZATION"
                guessed.append((found, start, end))
    for index, (entity, start, end) in enumerate(sure):
        company = company_span(text, start, end)
        sure[index] = ("ORGANIZATION", *company) if company else extend(text, entity, start, end)
    kept = keep_apart(sure, guessed)
    merged: list[tuple[str, int, int]] = []
    last_sure = False
    for index, (entity, start, end, is_sure) in enumerate(kept):
        if not is_sure and coordinated_with_person(text, kept, index):
            entity = "PERSON"
        if merged and joined(text, merged[-1], last_sure, entity, start):
            merged[-1] = (entity, merged[-1][1], end)
        else:
            merged.append((entity, start, end))
        last_sure = is_sure
    return [span for span in merged if span[0] != THING]
