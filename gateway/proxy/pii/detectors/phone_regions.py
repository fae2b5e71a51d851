"""Which countries a text places its phone numbers in, and those countries' rules.

    region_hints(text) -> regions, in the order the text names them
    national_rules(region) -> country code, national lengths, pattern, trunk 0

A text names a country by its name (in English or its own language), by
the word for phone in the country's language, or by the ccTLD of an email
address or URL; `phone` adds the countries of `+CC` numbers it found.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Words that place a text in a country: English and native country names,
# and the word for phone in the country's language (Spanish "teléfono" says
# Spain or Mexico, not which, so both are tried). Matched whole, lowercased.
_SPANISH = ("ES", "MX", "AR", "CO", "CL", "PE")
_GERMAN = ("DE", "AT", "CH")
_REGION_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("spain", "españa", "espana", "spanish"), ("ES",)),
    **dict.fromkeys(("mexico", "méxico", "mexican", "mexicano", "mexicana"), ("MX",)),
    **dict.fromkeys(("brazil", "brasil", "brazilian", "brasileiro", "brasileira"), ("BR",)),
    **dict.fromkeys(("portugal", "portuguese", "português"), ("PT",)),
    **dict.fromkeys(("argentina", "argentinian", "argentino"), ("AR",)),
    **dict.fromkeys(("colombia", "colombian", "colombiano"), ("CO",)),
    **dict.fromkeys(("chile", "chilean", "chileno"), ("CL",)),
    **dict.fromkeys(("peru", "perú", "peruvian", "peruano"), ("PE",)),
    **dict.fromkeys(("poland", "polska"), ("PL",)),  # not "polish", an English verb
    **dict.fromkeys(("germany", "deutschland", "german"), ("DE",)),
    **dict.fromkeys(("austria", "österreich", "austrian"), ("AT",)),
    **dict.fromkeys(("switzerland", "schweiz", "suisse", "svizzera", "swiss"), ("CH",)),
    **dict.fromkeys(("france", "french", "français", "française"), ("FR",)),
    **dict.fromkeys(("belgium", "belgique", "belgië", "belgian"), ("BE",)),
    **dict.fromkeys(("italy", "italia", "italian", "italiano"), ("IT",)),
    **dict.fromkeys(("netherlands", "nederland", "dutch", "holland"), ("NL",)),
    **dict.fromkeys(
        ("united kingdom", "uk", "britain", "british", "england", "scotland", "wales"), ("GB",)
    ),
    **dict.fromkeys(("ireland", "irish", "éire"), ("IE",)),
    **dict.fromkeys(("australia", "australian"), ("AU",)),
    **dict.fromkeys(("new zealand",), ("NZ",)),
    **dict.fromkeys(("india", "indian", "bharat"), ("IN",)),
    **dict.fromkeys(("japan", "japanese", "nippon"), ("JP",)),
    **dict.fromkeys(("south africa",), ("ZA",)),
    **dict.fromkeys(("teléfono", "móvil", "movil", "celular"), _SPANISH),
    "telefono": (*_SPANISH, "IT"),
    **dict.fromkeys(("telefone", "telemóvel"), ("BR", "PT")),
    **dict.fromkeys(
        ("telefon", "telefonnummer", "handynummer", "rufnummer", "mobilnummer"), _GERMAN
    ),
    **dict.fromkeys(("téléphone", "telephone portable"), ("FR", "BE", "CH")),
    "cellulare": ("IT",),
}


def _trie_pattern(words: list[str]) -> str:
    """Return an alternation of `words` factored by common prefix (greedy: longer wins).

    Factored, the regex engine tests a position against a few first letters
    instead of every word.
    """
    heads: dict[str, list[str]] = {}
    for word in words:
        heads.setdefault(word[0], []).append(word[1:])
    branches = []
    for head, tails in sorted(heads.items()):
        rest = [tail for tail in tails if tail]
        inner = _trie_pattern(rest) if rest else ""
        if inner and "" in tails:
            inner = f"(?:{inner})?"
        branches.append(re.escape(head) + inner)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


# Greedy, so a longer word wins ("telefonnummer" over "telefon"); the word
# boundaries are checked in Python, which keeps the first-letter skip fast.
_REGION_WORD = re.compile(_trie_pattern(sorted(_REGION_WORDS)))
# The country of an email address's or a URL's host (".es", ".com.mx",
# ".co.uk").
_CCTLD = re.compile(
    r"(?:@|://|\bwww\.)[A-Za-z0-9.\-]{0,253}\.([A-Za-z]{2})(?![A-Za-z0-9.\-])", re.ASCII
)
_TLD_REGIONS = {"uk": "GB"}


@lru_cache(maxsize=256)
def national_rules(region: str) -> tuple[int, frozenset[int], re.Pattern[str], bool]:
    """Return a region's country code, national lengths, general pattern, trunk-0 flag."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return 0, frozenset(), re.compile("(?!)"), False
    general = metadata.general_desc
    return (
        metadata.country_code or 0,
        frozenset(general.possible_length or ()),
        re.compile(general.national_number_pattern or "(?!)"),
        metadata.national_prefix == "0",
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def region_hints(text: str) -> tuple[str, ...]:
    """Return the regions the text itself names, in the order it names them."""
    found: list[tuple[int, str]] = []
    lowered = text.lower()
    for match in _REGION_WORD.finditer(lowered):
        start, end = match.span()
        word = match.group()
        if word not in _REGION_WORDS:
            continue
        if (start and _is_word_char(lowered[start - 1])) or (
            end < len(lowered) and _is_word_char(lowered[end])
        ):
            continue
        found.extend((start, region) for region in _REGION_WORDS[word])
    if "@" in text or "://" in text or "www." in text:
        for match in _CCTLD.finditer(text):
            tld = match.group(1).lower()
            region = _TLD_REGIONS.get(tld, tld.upper())
            if national_rules(region)[0]:
                found.append((match.start(), region))
    ordered: dict[str, None] = {}
    for _, region in sorted(found, key=lambda pair: pair[0]):
        ordered.setdefault(region)
    return tuple(ordered)
