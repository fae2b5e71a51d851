"""Word-level conventions that the rules of several modules share.

Capital letters, honorifics, greetings, surname particles, the field names
of other PII, and how to find and judge the word before a span. Kept apart
so that `people`, `organizations`, `tidying` and `overlaps` read them
without importing one another.
"""

from __future__ import annotations

import re

# Upper-case letters of Latin-1 and Latin Extended (Python's `re` has no \p{Lu}).
UPPER = "".join(letter for letter in map(chr, range(0x250)) if letter.isupper())
HONORIFIC = re.compile(r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame|Miss)\.?$")
DIGIT = re.compile(r"\d")
GREETING = re.compile(r"(?:Dear|Hi|Hello|Hey|Thanks|Thank you|Cheers|Regards|Attn:?|Cc:?) ")
FIELD_NAMES = frozenset(
    {
        *("IBAN", "BIC", "SWIFT", "SSN", "ITIN", "TIN", "EIN", "DL", "IP", "PAN", "CVV", "ID"),
        *("VAT", "BSN", "NIF", "NIE", "PESEL", "TEL", "PHONE", "FAX", "EMAIL", "SUBJECT"),
        *("INFO", "WARN", "WARNING", "ERROR", "DEBUG", "TRACE", "FATAL", "CRITICAL"),
        # Salutations and sign-offs left alone on their line.
        *("DEAR", "HI", "HELLO", "HEY", "THANKS", "THANK YOU", "THX", "CHEERS", "BEST"),
        *("REGARDS", "KIND REGARDS", "BEST REGARDS", "SINCERELY", "BEST WISHES"),
    }
)
# People are not named with an article: "the Kafka upgrade", "the Henschel
# office" use the name as a modifier (a product, firm or place).
ARTICLE_BEFORE = re.compile(r"\b[Tt]he $")
# Lower-case particles inside surnames ("Timo van der Velde", "Melina da Rocha").
PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la"}
    | {"le", "ten", "ter", "zu", "'t", "\u2019t"}
)


def word_before(text: str, start: int) -> int | None:
    """Return where the word before `start` begins, if one space parts them."""
    if start < 2 or text[start - 1] != " " or text[start - 2].isspace():
        return None
    space = text.rfind(" ", max(0, start - 41), start - 1)
    if space < 0 and start > 41:
        return None
    newline = text.rfind("\n", max(0, space + 1), start - 1)
    return max(space, newline) + 1


def capitalised(word: str) -> bool:
    """Tell whether `word` is a capitalised word that may be part of a name."""
    return (
        word[:1].isupper()
        and word.replace("-", "").isalpha()
        and GREETING.match(word + " ") is None
        and HONORIFIC.match(word) is None
    )


def starts_sentence(text: str, start: int) -> bool:
    """Tell whether a sentence, a line or the text begins at `start`."""
    return (
        start == 0 or text[start - 1] in "\n\r\t" or text[start - 2 : start] in (". ", "! ", "? ")
    )
