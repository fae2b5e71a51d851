"""Places, and the fields that say what their value is: a place, a company or a thing.

A field's value is a sure span; a THING value only keeps the model's spans
off it and is dropped at the end. PLACE_BEFORE tells `refine` that a PERSON
the model saw after "in" or "moved to" is a place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gateway.proxy.pii.ner_rules.words import DIGIT

# A sure span of this type keeps the model's spans off a value, then is dropped.
THING = "THING"
# A field that holds a place or a company ("city": "Lyon", company="Acme")
# says what its value is, as a name field does for a person; one that holds
# a thing ("plan": "Jira", component=Kafka) says its value is no one's name.
_FIELD = re.compile(
    r"[\"']?\b(?i:(?P<place>city|town|country|region|location)"
    r"|(?P<org>company|employer|organi[sz]ation|firm)"
    r"|(?P<thing>plan|product|component|service|module|package|tool|app|browser|platform|os))"
    r"[\"']?[ \t]*[:=][ \t]*(?P<quote>[\"']?)"
)
_ENTITY_OF_FIELD = {"place": "LOCATION", "org": "ORGANIZATION", "thing": THING}
# After "in", "near" or a verb of travel comes a place ("met in Kalisz",
# "moved to Gabon"), save phrasal verbs that take a person ("loop in Tom").
PLACE_BEFORE = re.compile(
    r"(?:(?<!loop )(?<!bring )(?<!rope )(?<!fill )(?<!cc )(?<!keep )\bin|\bnear"
    r"|\b(?:moved|moving|move|fly|flying|flew|travel(?:l?ed|l?ing)?|relocat(?:e|ed|ing)"
    r"|trip|visit) to) $"
)


def cued_fields(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield the capitalised value of a place or company field as LOCATION or ORGANIZATION."""
    for field in _FIELD.finditer(text):
        start, quote = field.end(), field.group("quote")
        window = text[start : start + 100]
        if quote:
            stop = window.find(quote)
            if stop < 0:
                continue
            value = window[:stop]
        else:
            value = re.split(r"[\r\n,;\"']", window, maxsplit=1)[0]
            if "=" in value:  # key=value logs: the next key is no part of it
                value = value[: value.index("=")].rpartition(" ")[0]
        value = value.rstrip(" \t.")
        if value[:1].isupper() and not DIGIT.search(value):
            kind = next(name for name in _ENTITY_OF_FIELD if field.group(name))
            yield _ENTITY_OF_FIELD[kind], start, start + len(value)
