"""Post-processing of spaCy's entity spans for `gateway.proxy.pii.ner`.

    chunks(text, limit) -> (offset, piece) pairs; refine(text, spans) -> spans

No spaCy here: the model's (label, start, end) spans come in, PII entity
spans go out. Every rule is a convention of English writing, not a list of
names, and each one's reason is written beside it. All work is linear in the
text: regexes are matched at positions, never searched from each cue.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

LABELS = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
}

# The model reads a length-preserving view of the text: quotes, brackets and
# `=` become spaces. Trained on edited prose, it takes a quoted string for a
# title (WORK_OF_ART) and misses names in JSON and key="value" logs.
MODEL_VIEW = str.maketrans(dict.fromkeys('"{}[]<>=|', " "))
_BREAKS = ("\n\n", "\n", ". ", " ")

# Post-processing, all of it English writing conventions rather than names:
# - context cues that introduce a person: a salutation, a self-introduction,
#   the line after a sign-off, an email header's display name, a name field;
#   two or more capitalised words there are a PERSON, whatever the model said;
# - a company's legal form ("Inc", "LLC", "GmbH", "and Sons") makes the span
#   before it an ORGANIZATION;
# - honorifics before a PERSON and generational or professional suffixes
#   after it belong to the name ("Dr. Ann Lee MD");
# - a span never crosses a line, never starts with a salutation, and needs a
#   capital letter; the field names of other PII ("IBAN") are dropped.
_CUE = re.compile(
    r"(?:(?P<short>\b(?:Dear|Hi|Hello|Hey|Thanks|Thank you)[ \t]+"
    r"|(?:[Rr]egards|[Ss]incerely|[Bb]est|[Tt]hanks|[Tt]hx|[Cc]heers|[Ww]ishes),?[ \t]*\r?\n)"
    r"|\b[Tt]his is|\b[Mm]y name is|\b[Ii] am|\b[Ii]'m|^(?:From|To|Cc|Reply-To):"
    r"|[\"']?\b(?i:name|full_?name|(?:customer|contact|patient|employee)_?name|assignee"
    r"|reporter|owner|author|requester)[\"']?[ \t]*[:=][ \t]*[\"']?)[ \t]*",
    re.MULTILINE,
)
# Capitalised words that follow "Hi" or "Thanks" without being anyone's name.
_ADDRESSEES = frozenset(
    {"All", "Everyone", "Everybody", "Team", "Folks", "Guys", "There", "Sir", "Madam", "Both"}
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*\.?")
_HONORIFIC = re.compile(r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.?$")
_HONORIFIC_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.? ?$")
_SUFFIX = re.compile(r"(?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|Ph\.D|Esq)\.?")
_SUFFIX_AFTER = re.compile(r",? (?:Jr\.?|Sr\.?|II|III|IV|MD|DDS|DVM|PhD|Ph\.D\.|Esq\.?)(?!\w)")
# A line made only of capitalised names joined by commas and "and" or "&"
# names a firm ("Skadden, Arps, Slate, Meagher & Flom"), not several people.
_FIRM_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'-]*(?:, [A-Z][\w'-]*)*,? (?:and|&) [A-Z][\w'-]*)[ \t]*\r?$", re.MULTILINE
)
_LEGAL_FORM = re.compile(
    r"(?:,? (?:Inc\.?|LLC|LLP|Ltd\.?|PLC|plc|GmbH|AG|KGaA|KG|OHG|SA|SAS|S\.A\.(?:S\.?)?|SARL"
    r"|S\.?p\.?A\.?|SPA|S\.r\.l\.|s\.r\.l\.|S\.L\.(?:U\.)?|BV|B\.V\.|NV|N\.V\.|Corp\.?"
    r"|S\.Com\.|S\.Coop\.|S\.C\.|GbR|SE|Corporation|Co\.|Group|Holdings"
    r"|(?:and|&|et|e|y) (?:Sons|Co\.?|Fils|[Ff]igli|Hijos|[Aa]sociados)))+"
    r"(?!\w)"
)
_LEGAL_FORM_END = re.compile(_LEGAL_FORM.pattern + "$")
_DIGIT = re.compile(r"\d")
_CODE = re.compile(r"\b(?:\d+[^\W\d_]|[^\W\d_]+\d)")
_ABBREVIATION_END = re.compile(r"\b(?:Jr|Sr|Inc|Corp|Co|Com|Coop|Ltd|Bros|St|Mt|Ph\.D|Esq|[A-Z])$")
# An imperative at the start of a sentence is no name ("Mark the ticket").
_DETERMINER_AFTER = re.compile(r" (?:the|a|an|this|that|these|those|my|our|your|their)\b")
_GREETING = re.compile(r"(?:Dear|Hi|Hello|Hey|Thanks|Thank you|Cheers|Regards|Attn:?|Cc:?) ")
_TRAILING = " \t\r\n.,;:!?\"')]}-\u2013"
_LEADING = " \t\r\n\"'([{-\u2013*\u2022"
_FIELD_NAMES = frozenset(
    {
        *("IBAN", "BIC", "SWIFT", "SSN", "ITIN", "TIN", "EIN", "DL", "IP", "PAN", "CVV", "ID"),
        *("VAT", "BSN", "NIF", "NIE", "PESEL", "TEL", "PHONE", "FAX", "EMAIL", "SUBJECT"),
        *("INFO", "WARN", "WARNING", "ERROR", "DEBUG", "TRACE", "FATAL", "CRITICAL"),
        # Salutations and sign-offs left alone on their line.
        *("DEAR", "HI", "HELLO", "HEY", "THANKS", "THANK YOU", "THX", "CHEERS", "BEST"),
        *("REGARDS", "KIND REGARDS", "BEST REGARDS", "SINCERELY", "BEST WISHES"),
    }
)


def chunks(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """Yield (offset, piece) covering `text`, each piece at most `limit` characters.

    A piece ends at the last paragraph break in its window, else the last line
    break, sentence end or space, and only without any of these mid-word.
    Each window is searched once, so the whole split is linear.
    """
    position = 0
    while len(text) - position > limit:
        end = position + limit
        for separator in _BREAKS:
            cut = text.rfind(separator, position + 1, end)
            if cut > position:
                end = cut + len(separator)
                break
        yield position, text[position:end]
        position = end
    if position < len(text):
        yield position, text[position:]


def _lines(start: int, text: str) -> Iterator[tuple[int, int]]:
    """Split one model span at line breaks: no name, place or company spans two lines.

    The model reads a newline as ordinary whitespace, so the signature lines
    of an email ("Ann Lee\nLee & Sons") come back as one entity; each line
    keeps the model's label.
    """
    offset = 0
    for piece in text.split("\n"):
        if piece.strip():
            yield start + offset, start + offset + len(piece)
        offset += len(piece) + 1


def refine(text: str, spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Turn the model's (label, start, end) spans into (entity, start, end) ones, by start.

    Spans found by a cue or as a firm line replace the model's spans they overlap.
    """
    cued = list(_cued_names(text))
    cued.extend(("ORGANIZATION", *firm.span(1)) for firm in _FIRM_LINE.finditer(text))
    cued.sort(key=lambda span: span[1])
    starts = [start for _, start, _ in cued]
    # reach[i]: the furthest end among cued[0..i], so one bisect tells whether
    # a span overlaps any cued span.
    reach: list[int] = []
    for _, _, end in cued:
        reach.append(max(end, reach[-1]) if reach else end)
    refined = list(cued)
    for label, start, end in spans:
        entity = LABELS.get(label)
        if entity is None:
            continue
        for line_start, line_end in _lines(start, text[start:end]):
            span = _tidy(text, entity, line_start, line_end)
            if span is None:
                continue
            before = bisect.bisect_left(starts, span[1])
            if before and reach[before - 1] > span[0]:
                continue
            refined.append((entity, *span))
    merged: list[tuple[str, int, int]] = []
    for entity, start, end in sorted(_extend(text, *span) for span in refined):
        # The model sometimes cuts one name in two ("Ana" "Laura Oliveira").
        if merged and merged[-1][0] == entity and text[merged[-1][2] : start] == " ":
            merged[-1] = (entity, merged[-1][1], end)
        else:
            merged.append((entity, start, end))
    return sorted(merged, key=lambda span: (span[1], span[2]))


def _cued_names(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield PERSON spans of capitalised words right after a context cue.

    Two to four words make a name after any cue; after a salutation or on the
    line after a sign-off, one word followed by punctuation or the line end
    does too ("Hi Anna,", "Cheers,\nTom").
    """
    for cue in _CUE.finditer(text):
        start = end = cue.end()
        words = titles = 0
        while words < 4 and titles < 2:
            word = _NAME_WORD.match(text, end + 1 if end > start else start)
            if word is None or (end > start and text[end] != " "):
                break
            value = word.group()
            if not value[0].isupper() or (words >= 2 and _SUFFIX.fullmatch(value)):
                break  # `_extend` adds a suffix
            end = word.end()
            if _HONORIFIC.match(value):
                titles += 1
                continue
            words += 1
            # A full stop ends the name unless it marks an initial ("John F. Kennedy").
            if value.endswith(".") and len(value) > 2:
                break
        end = start + len(text[start:end].rstrip("."))
        if words >= 2 or (
            words == 1
            and cue.group("short") is not None
            and text[end : end + 1] in ("", ",", "!", ":", "\n", "\r")
            and text[start:end] not in _ADDRESSEES
        ):
            yield "PERSON", start, end


def _extend(text: str, entity: str, start: int, end: int) -> tuple[str, int, int]:
    """Add a legal form (then it is an ORGANIZATION), or a PERSON's title and suffix."""
    legal = _LEGAL_FORM.match(text, end)
    if legal is not None:
        return "ORGANIZATION", start, legal.end()
    if _LEGAL_FORM_END.search(text, start, end) is not None:
        return "ORGANIZATION", start, end
    if entity == "PERSON":
        before = _HONORIFIC_BEFORE.search(text, max(0, start - 6), start)
        if before is not None:
            start = before.start()
        after = _SUFFIX_AFTER.match(text, end)
        if after is not None:
            end = after.end()
    return entity, start, end


def _tidy(text: str, entity: str, start: int, end: int) -> tuple[int, int] | None:
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
    greeting = _GREETING.match(text, start, end)
    if greeting is not None:
        start = greeting.end()
    # Names start and end with a capitalised word ("ping Tom", "Anna van").
    while (space := text.find(" ", start, end)) > 0 and text[start:space].islower():
        start = space + 1
    while (space := text.rfind(" ", start, end)) > 0 and text[space + 1 : end].islower():
        end = space
    piece = text[start:end]
    if entity == "PERSON" and " the " in piece:
        # "the" is in no one's name: "Bill the Acme account" bills an account.
        start += piece.rindex(" the ") + len(" the ")
        piece = text[start:end]
    if not piece or piece.lower() == piece or piece.upper() in _FIELD_NAMES or "_" in piece:
        return None
    if _LEGAL_FORM.fullmatch(" " + piece):
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
    if _DIGIT.search(piece) and (
        entity == "PERSON" or _CODE.search(piece) or piece.upper() == piece
    ):
        return None
    if " " not in piece and text[end : end + 1] in (":", "="):
        return None
    return start, end
