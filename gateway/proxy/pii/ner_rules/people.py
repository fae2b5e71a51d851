"""People: the cues that introduce a name, and the parts a name's span grows by.

`cued_names` finds names the model may have missed after a salutation, a
self-introduction, a sign-off, an email header or a name field; `extend`
adds to a PERSON span its title, suffix, surname particles and a first name
the model left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gateway.proxy.pii.ner_rules.words import (
    FIELD_NAMES,
    HONORIFIC,
    PARTICLES,
    UPPER,
    capitalised,
    starts_sentence,
    word_before,
)

_CUE = re.compile(
    r"(?:(?P<short>\b(?:Dear|Hi|Hello|Hey|Thanks|Thank you)[ \t]+"
    # A letter may open with the reader's name alone on its first line, then
    # a blank line ("Adolfo -", "Ann,").
    rf"|(?:\A|(?<=\n\n))(?=[{UPPER}][\w'-]*(?: [{UPPER}][\w'-]*)?"
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
_HONORIFIC_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.? ?$")
_SUFFIX = re.compile(r"(?:Jr|Sr|II|III|IV|MD|DDS|DVM|PhD|Ph\.D|Esq)\.?")
_SUFFIX_AFTER = re.compile(r",? (?:Jr\.?|Sr\.?|II|III|IV|MD|DDS|DVM|PhD|Ph\.D\.|Esq\.?)(?!\w)")
_PARTICLES_AFTER = re.compile(
    r"(?: (?:van|von|der|den|de|del|della|di|da|das|dos|du|la|le|ten|ter|zu|['\u2019]t))+"
    rf" [{UPPER}][\w'-]*"
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
        if words and value in PARTICLES:
            # "Nadia van Landen": a particle counts if a capitalised word follows.
            position, particles = word.end(), particles + 1
            continue
        if not value[0].isupper() or (words >= 2 and _SUFFIX.fullmatch(value)):
            break  # `extend` adds a suffix
        position = end = word.end()
        if HONORIFIC.match(value):
            titles += 1
            continue
        words += 1
        # A full stop ends the name unless it marks an initial ("John F. Kennedy").
        if value.endswith(".") and len(value) > 2:
            break
    return start + len(text[start:end].rstrip(".")), words


def cued_names(text: str) -> Iterator[tuple[str, int, int]]:
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
            and text[start:end].upper() not in FIELD_NAMES
        ):
            yield "PERSON", start, end
        while cue.group("field") is not None and words >= 2 and text.startswith(", ", end):
            start = end + 2
            end, words = _name_at(text, start)
            if words >= 2:
                yield "PERSON", start, end


def extend(text: str, entity: str, start: int, end: int) -> tuple[str, int, int]:
    """Add a PERSON's title, suffix, surname particles and a first name the model left out."""
    if entity != "PERSON":
        return entity, start, end
    before = _HONORIFIC_BEFORE.search(text, max(0, start - 6), start)
    if before is not None:
        return entity, before.start(), _person_end(text, end)
    # "Melina da Rocha": particles and the name before them.
    word_start, word_end, particles = word_before(text, start), start - 1, 0
    while word_start is not None and text[word_start:word_end] in PARTICLES and particles < 3:
        word_end, particles = word_start - 1, particles + 1
        word_start = word_before(text, word_start)
    if word_start is not None and (particles or not starts_sentence(text, word_start)):
        # A capitalised word inside a sentence, right before a name, is its
        # first part ("send it to Théophile Leroux"); the word before it must
        # be lower case or end in punctuation, so a place is not swallowed.
        prior = word_before(text, word_start)
        previous = "" if prior is None else text[prior : word_start - 1]
        if capitalised(text[word_start:word_end]) and (
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
