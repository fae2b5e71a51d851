"""Organizations: legal forms, companies, firms named by lists of surnames, "University of".

Spans these rules find are sure (they replace the model's spans they
overlap); `company_span` also turns a model span that a legal form ends or
follows into a company.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from gateway.proxy.pii.ner_rules.words import (
    ARTICLE_BEFORE,
    UPPER,
    capitalised,
    starts_sentence,
    word_before,
)

# A line made only of capitalised names joined by commas and "and" or "&"
# names a firm ("Skadden, Arps, Slate, Meagher & Flom"), not several people.
FIRM_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'-]*(?:, [A-Z][\w'-]*)*,? (?:and|&) [A-Z][\w'-]*)[ \t]*\r?$", re.MULTILINE
)
LEGAL_FORM = re.compile(
    r"(?:,? (?:Inc\.?|LLC|LLP|Ltd\.?|PLC|plc|GmbH|mbH|AG|KGaA|KG|OHG|SA|SAS|S\.A\.(?:S\.?|T\.)?"
    r"|SARL|S\.A\.R\.L\.|S\.?p\.?A\.?|SPA|S\.r\.l\.|s\.r\.l\.|S\.L\.(?:U\.|L\.|N\.E\.?)?"
    r"|BV|B\.V\.|NV|N\.V\.|Corp\.?|S\.Com\.?|S\.Coop\.?|S\.C\.|GbR|SE|e\.V\.|e\.G\."
    r"|Corporation|Co\.|Group|Holdings|Partners|Associates|Labs|Bank|Ventures|Foundation"
    r"|(?:and|&|et|e|y) (?:Sons|Co\.?|Fils|[Ff]igli|Hijos|[Aa]sociados)))+"
    r"(?!\w)"
)
LEGAL_FORM_END = re.compile(LEGAL_FORM.pattern + "$")
# Capitalised single words joined by commas and one conjunction: "Foster, Kent
# and Freeman" names a firm as often as three people, so `firm_lists` wants
# one more sign. The run is matched once from its first word, so linear.
_RUN = re.compile(
    rf"(?<![\w'-])[{UPPER}][\w'-]*(?:(?:, |,? (?:and|&|et|e|y|und) )[{UPPER}][\w'-]*)+"
)
_RUN_SEPARATOR = re.compile(r",? (?:and|&|et|e|y|und) |, ")
# "University of X", "Bank of X": an institution named by what it is, then whom.
ORG_OF = re.compile(
    r"\b(?:University|Bank|Institute|Ministry|Department|College|Academy|Museum|School)"
    rf" of(?: the)?(?: [{UPPER}][\w'-]*)+"
)
FOUNDERS = re.compile(rf"[{UPPER}][^\W\d_]+-[{UPPER}][^\W\d_]+")
# Words joining the parts of a company's name ("Castell y Núñez S.Com.").
# "and" is not one: "Ann Lee and Acme Inc" are two.
_NAME_JOINERS = frozenset({"y", "e", "et", "&", "und", "de", "del", "di"})


def firm_lists(text: str, spans: list[tuple[str, int, int]]) -> Iterator[tuple[str, int, int]]:
    """Yield ORGANIZATION spans of capitalised single words listed with one conjunction.

    "Foster, Kent and Freeman" is a firm, not three people, when "&" joins it
    ("Ernst & Young"), when the model called one of its words an
    organisation, when it follows "the" ("the Ward, Kirk and Williams
    office") or when a legal form follows it. A word right after another
    capitalised one ends a full name ("Antony Marques, Gill, Crawford and
    Lee") and starts no list.
    """
    organisations = sorted((start, end) for label, start, end in spans if label == "ORG")
    starts = [start for start, _ in organisations]
    reach: list[int] = []  # reach[i]: the furthest end among organisations[0..i]
    for _, end in organisations:
        reach.append(max(end, reach[-1]) if reach else end)
    for run in _RUN.finditer(text):
        words: list[tuple[int, int]] = []
        joins: list[str] = []
        position = run.start()
        for separator in _RUN_SEPARATOR.finditer(run.group()):
            words.append((position, run.start() + separator.start()))
            joins.append(separator.group())
            position = run.start() + separator.end()
        words.append((position, run.end()))
        conjunction = next((i for i, join in enumerate(joins) if join != ", "), None)
        if conjunction is None:
            continue
        full_name = word_before(text, run.start())
        first = 1 if conjunction and full_name is not None and text[full_name].isupper() else 0
        start, end = words[first][0], words[conjunction + 1][1]
        ampersand = "&" in joins[conjunction]
        if conjunction + 2 - first < (2 if ampersand else 3):
            continue
        before = bisect.bisect_left(starts, end)
        if (
            ampersand
            or (before and reach[before - 1] > start)
            or ARTICLE_BEFORE.search(text[max(0, start - 5) : start])
            or LEGAL_FORM.match(text, end)
        ):
            yield "ORGANIZATION", start, end


def companies(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield an ORGANIZATION for each legal form after a capitalised word, tagged or not.

    The model often tags only part of "Arrieta y Alba S.Coop.", or none of it.
    """
    for legal in LEGAL_FORM.finditer(text):
        space = text.rfind(" ", max(0, legal.start() - 41), legal.start())
        newline = text.rfind("\n", max(0, space), legal.start())
        start = max(space, newline) + 1
        if (start or legal.start() <= 41) and capitalised(text[start : legal.start()]):
            yield "ORGANIZATION", _company_start(text, start), legal.end()


def company_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Return a company's span when a legal form ends or follows the span, else None."""
    legal = LEGAL_FORM.match(text, end)
    if legal is None:
        inside = LEGAL_FORM_END.search(text, start, end)
        if inside is None:
            return None
        # The model may stop short of the full stop of "S.Com.".
        legal = LEGAL_FORM.match(text, inside.start())
    end = max(end, legal.end()) if legal is not None else end
    return _company_start(text, start), end


def _company_start(text: str, start: int) -> int:
    """Move a company's start left over the capitalised words of its name.

    They belong to it ("Familia Arjona S.Com.", "Castell y Núñez S.Com."),
    unless one starts a sentence ("Yesterday Acme Inc said").
    """
    for _ in range(4):
        word_start = word_before(text, start)
        if word_start is None or starts_sentence(text, word_start):
            break
        word = text[word_start : start - 1]
        if word in _NAME_JOINERS:
            joined = word_before(text, word_start)
            if joined is None or not text[joined].isupper():
                break
        elif not capitalised(word):
            break
        start = word_start
    return start
