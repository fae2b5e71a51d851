"""Post-processing of spaCy's entity spans for `gateway.proxy.pii.ner`.

    chunks(text, limit) -> (offset, piece) pairs; refine(text, spans) -> spans

No spaCy here: the model's (label, start, end) spans come in, PII entity
spans go out. Every rule is a convention of English writing, not a list of
names, and each one's reason is written beside it. All work is linear in the
text: regexes are matched at positions, never searched from each cue; a scan
over the whole text (`finditer`) resumes where its last match ended; a look
at the words before a span reads a bounded window (a few words, 40
characters each at most); and overlapping spans are resolved group by group.
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
#   capital letter; the field names of other PII ("IBAN") are dropped;
# - a list of surnames is a firm's name when something says so, and so is
#   "University of X"; a place or company field says what its value is;
# - people are not named after "the", "in" or "moved to", nor on a label line;
# - surname particles and a first name the model left out join the name.
# Upper-case letters of Latin-1 and Latin Extended (Python's `re` has no \p{Lu}).
_UPPER = "".join(letter for letter in map(chr, range(0x250)) if letter.isupper())
_CUE = re.compile(
    r"(?:(?P<short>\b(?:Dear|Hi|Hello|Hey|Thanks|Thank you)[ \t]+"
    # A letter may open with the reader's name alone on its first line, then
    # a blank line ("Adolfo -", "Ann,").
    rf"|(?:\A|(?<=\n\n))(?=[{_UPPER}][\w'-]*(?: [{_UPPER}][\w'-]*)?"
    r"(?:,| [-\u2013])[ \t]*\r?\n[ \t]*\r?\n)"
    r"|(?:[Rr]egards|[Ss]incerely|[Bb]est|[Tt]hanks|[Tt]hx|[Cc]heers|[Ww]ishes),?[ \t]*\r?\n)"
    r"|\b[Tt]his is|\b[Mm]y name is|\b[Ii] am|\b[Ii]'m|(?P<field>^(?:From|To|Cc|Reply-To):"
    r"|[\"']?\b(?i:name|full_?name|(?:customer|contact|patient|employee)_?name|assignee"
    r"|reporter|owner|author|requester|attendees|participants|invitees)"
    r"[\"']?[ \t]*[:=][ \t]*[\"']?)"
    # A role noun in apposition ("customer Sara Davies", "for user Ann Lee") or
    # a verb whose object is a person ("meet Zehaan Konda", "ask Unni Sarraf");
    # lower case only, so headings ("Customer Success Sync") are no cue.
    r"|\b(?:customer|client|user|patient|colleague|coworker|employee|candidate|applicant"
    r"|tenant|ask|meet|ping|tell|thank|email|invite|introduce|cc) )[ \t]*",
    re.MULTILINE,
)
# Capitalised words that follow "Hi" or "Thanks" without being anyone's name.
_ADDRESSEES = frozenset(
    {"All", "Everyone", "Everybody", "Team", "Folks", "Guys", "There", "Sir", "Madam", "Both"}
    | {"Morning", "Afternoon", "Evening", "Colleagues", "Friends"}
)
_NAME_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*\.?")
_HONORIFIC = re.compile(r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.?$")
_HONORIFIC_FIRST = re.compile(r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.? ")
_HONORIFIC_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.? ?$")
_SUFFIX = re.compile(r"(?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|Ph\.D|Esq)\.?")
_SUFFIX_AFTER = re.compile(r",? (?:Jr\.?|Sr\.?|II|III|IV|MD|DDS|DVM|PhD|Ph\.D\.|Esq\.?)(?!\w)")
# A line made only of capitalised names joined by commas and "and" or "&"
# names a firm ("Skadden, Arps, Slate, Meagher & Flom"), not several people.
_FIRM_LINE = re.compile(
    r"^[ \t]*([A-Z][\w'-]*(?:, [A-Z][\w'-]*)*,? (?:and|&) [A-Z][\w'-]*)[ \t]*\r?$", re.MULTILINE
)
_LEGAL_FORM = re.compile(
    r"(?:,? (?:Inc\.?|LLC|LLP|Ltd\.?|PLC|plc|GmbH|mbH|AG|KGaA|KG|OHG|SA|SAS|S\.A\.(?:S\.?|T\.)?"
    r"|SARL|S\.A\.R\.L\.|S\.?p\.?A\.?|SPA|S\.r\.l\.|s\.r\.l\.|S\.L\.(?:U\.|L\.|N\.E\.?)?"
    r"|BV|B\.V\.|NV|N\.V\.|Corp\.?|S\.Com\.?|S\.Coop\.?|S\.C\.|GbR|SE|e\.V\.|e\.G\."
    r"|Corporation|Co\.|Group|Holdings|Partners|Associates|Labs|Bank|Ventures|Foundation"
    r"|(?:and|&|et|e|y) (?:Sons|Co\.?|Fils|[Ff]igli|Hijos|[Aa]sociados)))+"
    r"(?!\w)"
)
# A sure span of this type keeps the model's spans off a value, then is dropped.
_THING = "THING"
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

# Capitalised single words joined by commas and one conjunction: "Foster, Kent
# and Freeman" names a firm as often as three people, so `_firm_lists` wants
# one more sign. The run is matched once from its first word, so linear.
_RUN = re.compile(
    rf"(?<![\w'-])[{_UPPER}][\w'-]*(?:(?:, |,? (?:and|&|et|e|y|und) )[{_UPPER}][\w'-]*)+"
)
_RUN_SEPARATOR = re.compile(r",? (?:and|&|et|e|y|und) |, ")
# "University of X", "Bank of X": an institution named by what it is, then whom.
_ORG_OF = re.compile(
    r"\b(?:University|Bank|Institute|Ministry|Department|College|Academy|Museum|School)"
    rf" of(?: the)?(?: [{_UPPER}][\w'-]*)+"
)
# A field that holds a place or a company ("city": "Lyon", company="Acme")
# says what its value is, as a name field does for a person; one that holds
# a thing ("plan": "Jira", component=Kafka) says its value is no one's name.
_FIELD = re.compile(
    r"[\"']?\b(?i:(?P<place>city|town|country|region|location)"
    r"|(?P<org>company|employer|organi[sz]ation|firm)"
    r"|(?P<thing>plan|product|component|service|module|package|tool|app|browser|platform|os))"
    r"[\"']?[ \t]*[:=][ \t]*(?P<quote>[\"']?)"
)
_ENTITY_OF_FIELD = {"place": "LOCATION", "org": "ORGANIZATION", "thing": _THING}
# A line of one capitalised word and lower-case ones ending in a colon is a
# label ("Action items:", "Next steps:"), not a sentence about someone.
_LABEL_LINE = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){1,2}:[ \t]*\r?$", re.MULTILINE)
# People are not named with an article: "the Kafka upgrade", "the Henschel
# office" use the name as a modifier (a product, firm or place).
_ARTICLE_BEFORE = re.compile(r"\b[Tt]he $")
# After "in", "near" or a verb of travel comes a place ("met in Kalisz",
# "moved to Gabon"), save phrasal verbs that take a person ("loop in Tom").
_PLACE_BEFORE = re.compile(
    r"(?:(?<!loop )(?<!bring )(?<!rope )(?<!fill )(?<!cc )(?<!keep )\bin|\bnear"
    r"|\b(?:moved|moving|move|fly|flying|flew|travel(?:l?ed|l?ing)?|relocat(?:e|ed|ing)"
    r"|trip|visit) to) $"
)
# Lower-case particles inside surnames ("Timo van der Velde", "Melina da Rocha").
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la"}
    | {"le", "ten", "ter", "zu", "'t", "\u2019t"}
)
_PARTICLES_AFTER = re.compile(
    r"(?: (?:van|von|der|den|de|del|della|di|da|das|dos|du|la|le|ten|ter|zu|['\u2019]t))+"
    rf" [{_UPPER}][\w'-]*"
)
_HYPHENATED = re.compile(r"(?:-[^\W\d_][\w']*)+")
_FOUNDERS = re.compile(rf"[{_UPPER}][^\W\d_]+-[{_UPPER}][^\W\d_]+")
# Words joining the parts of a company's name ("Castell y Núñez S.Com.").
# "and" is not one: "Ann Lee and Acme Inc" are two.
_NAME_JOINERS = frozenset({"y", "e", "et", "&", "und", "de", "del", "di"})


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

    Spans found by a cue, a field, a firm's name or a legal form are sure:
    they replace the model's spans they overlap. Then a longer span beats a
    shorter one, and neighbours that make one name are joined.
    """
    sure: list[tuple[str, int, int]] = [
        *_cued_names(text),
        *_cued_fields(text),
        *(("ORGANIZATION", *firm.span(1)) for firm in _FIRM_LINE.finditer(text)),
        *_firm_lists(text, spans),
        *(("ORGANIZATION", *org.span()) for org in _ORG_OF.finditer(text)),
        *_companies(text),
    ]
    guessed: list[tuple[str, int, int]] = []
    for label, start, end in spans:
        entity = LABELS.get(label)
        if entity is None:
            continue
        for line_start, line_end in _lines(start, text[start:end]):
            span = _tidy(text, entity, line_start, line_end)
            if span is None:
                continue
            company = _company(text, *span)
            if company is not None:
                sure.append(("ORGANIZATION", *company))
            elif (
                entity == "PERSON"
                and _PLACE_BEFORE.search(text[max(0, span[0] - 30) : span[0]])
                and not _HONORIFIC_FIRST.match(text, *span)
                and text[span[1] : span[1] + 2] not in ("'s", "\u2019s")
            ):
                guessed.append(("LOCATION", *span))
            else:
                found, start, end = _extend(text, entity, *span)
                # One double-barrelled word, with no first name or title, is
                # a firm named for its founders ("Hewlett-Packard"): people
                # are seldom written so.
                if found == "PERSON" and _FOUNDERS.fullmatch(text, start, end):
                    found = "ORGANIZATION"
                guessed.append((found, start, end))
    for index, (entity, start, end) in enumerate(sure):
        company = _company(text, start, end)
        sure[index] = ("ORGANIZATION", *company) if company else _extend(text, entity, start, end)
    kept = _keep_apart(sure, guessed)
    merged: list[tuple[str, int, int]] = []
    last_sure = False
    for index, (entity, start, end, is_sure) in enumerate(kept):
        if not is_sure and _coordinated_with_person(text, kept, index):
            entity = "PERSON"
        if merged and _joined(text, merged[-1], last_sure, entity, start):
            merged[-1] = (entity, merged[-1][1], end)
        else:
            merged.append((entity, start, end))
        last_sure = is_sure
    return [span for span in merged if span[0] != _THING]


def _coordinated_with_person(text: str, kept: list[tuple[str, int, int, bool]], index: int) -> bool:
    """Tell whether a guessed place or firm of two or three plain words is "and"-ed to a PERSON.

    "and" joins like with like: in "Mr. Mahal and Loreto Muro" or "Jane
    Caldwell and Marina Seifert" the second is a person whatever the model
    said. A legal form or any word that is not a capitalised one keeps it.
    """
    entity, start, end, _ = kept[index]
    words = text[start:end].split(" ")
    if entity == "PERSON" or not 2 <= len(words) <= 3 or not all(map(_capitalised, words)):
        return False
    before = kept[index - 1] if index else None
    after = kept[index + 1] if index + 1 < len(kept) else None
    return (
        before is not None and before[0] == "PERSON" and text[before[2] : start] == " and "
    ) or (after is not None and after[0] == "PERSON" and text[end : after[1]] == " and ")


def _keep_apart(
    sure: list[tuple[str, int, int]], guessed: list[tuple[str, int, int]]
) -> list[tuple[str, int, int, bool]]:
    """Keep one span of each overlapping group, sure before guessed, then longer; by start.

    Each group of spans linked by overlaps is resolved on its own, as in
    `gateway.proxy.pii.spans`, so the cost stays n log n over the text.
    """
    spans = sorted(
        [(False, *span) for span in sure if span[1] < span[2]]
        + [(True, *span) for span in guessed if span[1] < span[2]],
        key=lambda span: (span[2], span[3]),
    )
    kept: list[tuple[str, int, int, bool]] = []
    group: list[tuple[bool, str, int, int]] = []
    group_end = -1
    for span in spans:
        if group and span[2] >= group_end:
            kept.extend(_keep_one_each(group))
            group = []
        group.append(span)
        group_end = max(group_end, span[3]) if len(group) > 1 else span[3]
    if group:
        kept.extend(_keep_one_each(group))
    return kept


def _keep_one_each(group: list[tuple[bool, str, int, int]]) -> list[tuple[str, int, int, bool]]:
    """Resolve one group of overlapping spans; the result is sorted by start."""
    starts: list[int] = []
    kept: list[tuple[str, int, int, bool]] = []
    for is_guess, entity, start, end in sorted(group, key=lambda s: (s[0], s[2] - s[3], s[2])):
        index = bisect.bisect_right(starts, start)
        if index and kept[index - 1][2] > start:
            continue
        if index < len(kept) and kept[index][1] < end:
            continue
        starts.insert(index, start)
        kept.insert(index, (entity, start, end, not is_guess))
    return kept


def _joined(
    text: str, last: tuple[str, int, int], last_sure: bool, entity: str, start: int
) -> bool:
    """Tell whether the span at `start` continues the `last` one as one name."""
    last_entity, last_start, last_end = last
    gap = text[last_end:start]
    if gap == " ":
        # The model sometimes cuts one name in two ("Ana" "Laura Oliveira"),
        # or calls a first name a place ("Théophile" "Leroux").
        return last_entity == entity or (
            entity == "PERSON" and not last_sure and " " not in text[last_start:last_end]
        )
    # "Jaylinn" "van 't" "Wel": surname particles join the parts of a name.
    words = gap.split(" ")
    return (
        entity == last_entity == "PERSON"
        and len(words) > 2
        and words[0] == words[-1] == ""
        and all(word in _PARTICLES for word in words[1:-1])
    )


def _name_at(text: str, start: int) -> tuple[int, int]:
    """Return the end of the capitalised words of a name at `start`, and their count."""
    end = position = start
    words = titles = particles = 0
    while words < 4 and titles < 2 and particles < 3:
        word = _NAME_WORD.match(text, position + 1 if position > start else start)
        if word is None or (position > start and text[position] != " "):
            break
        value = word.group()
        if words and value in _PARTICLES:
            # "Nadia van Landen": a particle counts if a capitalised word follows.
            position, particles = word.end(), particles + 1
            continue
        if not value[0].isupper() or (words >= 2 and _SUFFIX.fullmatch(value)):
            break  # `_extend` adds a suffix
        position = end = word.end()
        if _HONORIFIC.match(value):
            titles += 1
            continue
        words += 1
        # A full stop ends the name unless it marks an initial ("John F. Kennedy").
        if value.endswith(".") and len(value) > 2:
            break
    return start + len(text[start:end].rstrip(".")), words


def _cued_names(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield PERSON spans of capitalised words right after a context cue.

    Two to four words make a name after any cue; after a salutation or on the
    line after a sign-off, one word followed by punctuation or the line end
    does too ("Hi Anna,", "Cheers,\nTom"). A field or header may list several
    names of two words or more ("Attendees: Ann Lee, Bo Chan").
    """
    for cue in _CUE.finditer(text):
        start = cue.end()
        end, words = _name_at(text, start)
        if words >= 2 or (
            words == 1
            and cue.group("short") is not None
            and (
                text[end : end + 1] in ("", ",", "!", ":", "\n", "\r")
                or text.startswith((" -", " \u2013"), end)
            )
            and text[start:end] not in _ADDRESSEES
            and text[start:end].upper() not in _FIELD_NAMES
        ):
            yield "PERSON", start, end
        while cue.group("field") is not None and words >= 2 and text.startswith(", ", end):
            start = end + 2
            end, words = _name_at(text, start)
            if words >= 2:
                yield "PERSON", start, end


def _cued_fields(text: str) -> Iterator[tuple[str, int, int]]:
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
        if value[:1].isupper() and not _DIGIT.search(value):
            kind = next(name for name in _ENTITY_OF_FIELD if field.group(name))
            yield _ENTITY_OF_FIELD[kind], start, start + len(value)


def _firm_lists(text: str, spans: list[tuple[str, int, int]]) -> Iterator[tuple[str, int, int]]:
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
        full_name = _word_before(text, run.start())
        first = 1 if conjunction and full_name is not None and text[full_name].isupper() else 0
        start, end = words[first][0], words[conjunction + 1][1]
        ampersand = "&" in joins[conjunction]
        if conjunction + 2 - first < (2 if ampersand else 3):
            continue
        before = bisect.bisect_left(starts, end)
        if (
            ampersand
            or (before and reach[before - 1] > start)
            or _ARTICLE_BEFORE.search(text[max(0, start - 5) : start])
            or _LEGAL_FORM.match(text, end)
        ):
            yield "ORGANIZATION", start, end


def _companies(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield an ORGANIZATION for each legal form after a capitalised word, tagged or not.

    The model often tags only part of "Arrieta y Alba S.Coop.", or none of it.
    """
    for legal in _LEGAL_FORM.finditer(text):
        space = text.rfind(" ", max(0, legal.start() - 41), legal.start())
        newline = text.rfind("\n", max(0, space), legal.start())
        start = max(space, newline) + 1
        if (start or legal.start() <= 41) and _capitalised(text[start : legal.start()]):
            yield "ORGANIZATION", _company_start(text, start), legal.end()


def _company(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Return a company's span when a legal form ends or follows the span, else None."""
    legal = _LEGAL_FORM.match(text, end)
    if legal is None:
        inside = _LEGAL_FORM_END.search(text, start, end)
        if inside is None:
            return None
        # The model may stop short of the full stop of "S.Com.".
        legal = _LEGAL_FORM.match(text, inside.start())
    end = max(end, legal.end()) if legal is not None else end
    return _company_start(text, start), end


def _company_start(text: str, start: int) -> int:
    """Move a company's start left over the capitalised words of its name.

    They belong to it ("Familia Arjona S.Com.", "Castell y Núñez S.Com."),
    unless one starts a sentence ("Yesterday Acme Inc said").
    """
    for _ in range(4):
        word_start = _word_before(text, start)
        if word_start is None or _starts_sentence(text, word_start):
            break
        word = text[word_start : start - 1]
        if word in _NAME_JOINERS:
            joined = _word_before(text, word_start)
            if joined is None or not text[joined].isupper():
                break
        elif not _capitalised(word):
            break
        start = word_start
    return start


def _word_before(text: str, start: int) -> int | None:
    """Return where the word before `start` begins, if one space parts them."""
    if start < 2 or text[start - 1] != " " or text[start - 2].isspace():
        return None
    space = text.rfind(" ", max(0, start - 41), start - 1)
    if space < 0 and start > 41:
        return None
    newline = text.rfind("\n", max(0, space + 1), start - 1)
    return max(space, newline) + 1


def _capitalised(word: str) -> bool:
    """Tell whether `word` is a capitalised word that may be part of a name."""
    return (
        word[:1].isupper()
        and word.replace("-", "").isalpha()
        and _GREETING.match(word + " ") is None
        and _HONORIFIC.match(word) is None
    )


def _starts_sentence(text: str, start: int) -> bool:
    return (
        start == 0 or text[start - 1] in "\n\r\t" or text[start - 2 : start] in (". ", "! ", "? ")
    )


def _extend(text: str, entity: str, start: int, end: int) -> tuple[str, int, int]:
    """Add a PERSON's title, suffix, surname particles and a first name the model left out."""
    if entity != "PERSON":
        return entity, start, end
    before = _HONORIFIC_BEFORE.search(text, max(0, start - 6), start)
    if before is not None:
        return entity, before.start(), _person_end(text, end)
    # "Melina da Rocha": particles and the name before them.
    word_start, word_end, particles = _word_before(text, start), start - 1, 0
    while word_start is not None and text[word_start:word_end] in _PARTICLES and particles < 3:
        word_end, particles = word_start - 1, particles + 1
        word_start = _word_before(text, word_start)
    if word_start is not None and (particles or not _starts_sentence(text, word_start)):
        # A capitalised word inside a sentence, right before a name, is its
        # first part ("send it to Théophile Leroux"); the word before it must
        # be lower case or end in punctuation, so a place is not swallowed.
        prior = _word_before(text, word_start)
        previous = "" if prior is None else text[prior : word_start - 1]
        if _capitalised(text[word_start:word_end]) and (
            particles or previous.islower() or previous[-1:] in (",", ":", ";")
        ):
            start = word_start
    return entity, start, _person_end(text, end)


def _person_end(text: str, end: int) -> int:
    """Return the end of a name after surname particles and a suffix ("van der Velde", "Jr.")."""
    particles = _PARTICLES_AFTER.match(text, end)
    if particles is not None:
        end = particles.end()
    after = _SUFFIX_AFTER.match(text, end)
    return after.end() if after is not None else end


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
    # A name ends at a word's end, not at its hyphen ("Martinez-Martin").
    hyphenated = _HYPHENATED.match(text, end)
    if hyphenated is not None:
        end = hyphenated.end()
    if entity == "PERSON" and _LEGAL_FORM_END.search(text, start, end) is None:
        # A lower-case word other than a particle ends a name: "Damian Kuk at
        # Leon" names Damian Kuk, and "Bill the Acme account" no one.
        position = start
        while (space := text.find(" ", position, end)) > 0:
            following = text.find(" ", space + 1, end)
            word = text[space + 1 : end if following < 0 else following]
            if word.islower() and word not in _PARTICLES:
                end = space
                break
            position = space + 1
        if _ARTICLE_BEFORE.search(text[max(0, start - 5) : start]):
            return None
        label = _LABEL_LINE.match(text, start) if text[start - 1 : start] in ("", "\n") else None
        if label is not None and label.group()[len(text[start:end]) :].islower():
            return None
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
