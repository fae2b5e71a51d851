"""Tidy one span: trim punctuation, possessives and salutations, or drop it.

A span needs a capital letter, is not the field name of other PII, a code
or a field's key, and a PERSON is not named after "the" or on a label line.
"""

from __future__ import annotations

import re

from gateway.proxy.pii.ner_rules.organizations import LEGAL_FORM, LEGAL_FORM_END
from gateway.proxy.pii.ner_rules.words import (
    ARTICLE_BEFORE,
    DIGIT,
    FIELD_NAMES,
    GREETING,
    PARTICLES,
)

_CODE = re.compile(r"\b(?:\d+[^\W\d_]|[^\W\d_]+\d)")
_ABBREVIATION_END = re.compile(r"\b(?:Jr|Sr|Inc|Corp|Co|Com|Coop|Ltd|Bros|St|Mt|Ph\.D|Esq|[A-Z])$")
# An imperative at the start of a sentence is no name ("Mark the ticket").
_DETERMINER_AFTER = re.compile(r" (?:the|a|an|this|that|these|those|my|our|your|their)\b")
_TRAILING = " \t\r\n.,;:!?\"')]}-\u2013"
_LEADING = " \t\r\n\"'([{-\u2013*\u2022"
# A line of one capitalised word and lower-case ones ending in a colon is a
# label ("Action items:", "Next steps:"), not a sentence about someone.
_LABEL_LINE = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){1,2}:[ \t]*\r?$", re.MULTILINE)
_HYPHENATED = re.compile(r"(?:-[^\W\d_][\w']*)+")


def tidy(text: str, entity: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim punctuation, a possessive and a salutation off one span; None drops it."""
    piece = text[start:end]
    stripped = piece.rstrip(_TRAILING)
    if stripped.endswith(("'s", "\u2019s")):
        stripped = stripped[:-2]
    # Keep the full stop of an abbreviation that ends the name ("Jr.", "Inc.").
    if piece[len(stripped) : len(stripped) + 1] == "." and _ABBREVIATION_END.search(stripped):
        stripped += "."
    end = start + len(stripped)
    start += len(stripped) - len(stripped.lstrip(_LEADING))
    greeting = GREETING.match(text, start, end)
    if greeting is not None:
        start = greeting.end()
    # Names start and end with a capitalised word ("ping Tom", "Anna van").
    while (space := text.find(" ", start, end)) > 0 and text[start:space].islower():
        start = space + 1
    while (space := text.rfind(" ", start, end)) > 0 and text[space + 1 : end].islower():
        end = space
    # A name ends at a word's end, not at its hyphen ("Martinez-Martin").
    hyphenated = _HYPHENATED.match(text, end)
    if hyphenated is not None:
        end = hyphenated.end()
    if entity == "PERSON" and LEGAL_FORM_END.search(text, start, end) is None:
        # A lower-case word other than a particle ends a name: "Damian Kuk at
        # Leon" names Damian Kuk, and "Bill the Acme account" no one.
        position = start
        while (space := text.find(" ", position, end)) > 0:
            following = text.find(" ", space + 1, end)
            word = text[space + 1 : end if following < 0 else following]
            if word.islower() and word not in PARTICLES:
                end = space
                break
            position = space + 1
        if ARTICLE_BEFORE.search(text[max(0, start - 5) : start]):
            return None
        label = _LABEL_LINE.match(text, start) if text[start - 1 : start] in ("", "\n") else None
        if label is not None and label.group()[len(text[start:end]) :].islower():
            return None
    piece = text[start:end]
    if not piece or piece.lower() == piece or piece.upper() in FIELD_NAMES or "_" in piece:
        return None
    if LEGAL_FORM.fullmatch(" " + piece):
        return None  # a legal form alone ("S.L.U.") names nothing
    if (
        entity == "PERSON"
        and " " not in piece
        and _DETERMINER_AFTER.match(text, end)
        and text[max(0, start - 40) : start].rstrip(" \t")[-1:] in ("", ".", "!", "?", "\n")
    ):
        return None
    # Codes ("ORD-2023", "Z32") are identifiers, and no person's name has a
    # digit; one word followed by ":" or "=" is the key of a field.
    if DIGIT.search(piece) and (
        entity == "PERSON" or _CODE.search(piece) or piece.upper() == piece
    ):
        return None
    if " " not in piece and text[end : end + 1] in (":", "="):
        return None
    return start, end
