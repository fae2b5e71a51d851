"""Which countries a text places its phone numbers in, and those countries' rules.

    region_hints(text) -> regions, in the order the text names them
    national_rules(region) -> country code, national lengths, pattern, trunk 0
    valid_for_region(national, region) -> phonenumbers' validity verdict

A text names a country by its name (in English or its own language), by
the word for phone in the country's language, or by the ccTLD of an email
address or URL; `phone` adds the countries of `+CC` numbers it found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# A number type as phonenumbers describes it: possible lengths (empty: any)
# and the national number pattern.
_NumberDesc = tuple[frozenset[int], re.Pattern[str]]


def _number_desc(desc: phonenumbers.PhoneNumberDesc | None) -> _NumberDesc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=256)
def _number_descs(region: str) -> tuple[_NumberDesc | None, tuple[_NumberDesc, ...]]:
    """Return a region's general number description and those of its number types."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None, ()
    # Validity asks whether any type matches, so the common ones go first.
    kinds = [metadata.fixed_line]
    # phonenumbers reads the mobile pattern only when it differs from the
    # fixed-line one.
    if not metadata.same_mobile_and_fixed_line_pattern:
        kinds.append(metadata.mobile)
    kinds += [
        metadata.toll_free,
        metadata.premium_rate,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    ]
    described = (_number_desc(kind) for kind in kinds)
    return _number_desc(metadata.general_desc), tuple(d for d in described if d is not None)


def _matches(national: str, desc: _NumberDesc) -> bool:
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def valid_for_region(national: str, region: str) -> bool:
    """Tell what phonenumbers.is_valid_number_for_region says of this number in `region`.

    `national` is the national significant number (digits, no trunk prefix,
    no leading zero) of a number with `region`'s country code. The verdict
    is phonenumbers' own: the general pattern and one of the number types'
    match. Its function finds the metadata, rebuilds the number's digits
    and looks up every pattern on each call, which costs more than the rest
    of reading a plain US number; here the patterns are compiled once
    (tests/gateway/proxy/pii/test_fast_path.py compares the two on generated numbers).
    """
    general, kinds = _number_descs(region)
    if general is None or not _matches(national, general):
        return False
    return any(_matches(national, kind) for kind in kinds)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# ASCII letters lowered, every other byte a space: a text's words, split.
_WORDS_OF = bytes.maketrans(
    bytes(range(256)),
    bytes(
        byte + 32 if 65 <= byte <= 90 else byte if 97 <= byte <= 122 else 32 for byte in range(256)
    ),
)
# The ASCII region words: one word, or several ("new zealand").
_ASCII_WORDS = frozenset(
    word.encode() for word in _REGION_WORDS if word.isascii() and " " not in word
)
_ASCII_PHRASES = tuple(
    frozenset(word.encode().split()) for word in _REGION_WORDS if word.isascii() and " " in word
)


def _may_name_a_region(text: str) -> bool:
    """Tell whether the words of ASCII `text` include a region word (or a phrase's words)."""
    words = set(text.encode().translate(_WORDS_OF).split())
    return not _ASCII_WORDS.isdisjoint(words) or any(map(words.issuperset, _ASCII_PHRASES))


def region_hints(text: str, *, prefilter: bool = True) -> tuple[str, ...]:
    """Return the regions the text itself names, in the order it names them.

    `prefilter=False` skips the shortcuts below (the word check, the scan
    from the first host marker): the reference the fast path is tested
    against.
    """
    found: list[tuple[int, str]] = []
    # Most texts name no region: in ASCII text the words are split out at
    # memory speed (bytes.translate, bytes.split) and looked up in a set,
    # where the regex below would try a match at nearly every letter. Every
    # word the regex accepts is a whole word there too (a phrase's words
    # are), so when none is there it would find nothing.
    words: Iterable[re.Match[str]] = ()
    lowered = ""
    if not prefilter or not text.isascii() or _may_name_a_region(text):
        lowered = text.lower()
        words = _REGION_WORD.finditer(lowered)
    for match in words:
        start, end = match.span()
        word = match.group()
        if word not in _REGION_WORDS:
            continue
        if (start and _is_word_char(lowered[start - 1])) or (
            end < len(lowered) and _is_word_char(lowered[end])
        ):
            continue
        found.extend((start, region) for region in _REGION_WORDS[word])
    # No host starts before the first `@`, `://` or `www.` (found at memory
    # speed); the scan starts there (`\b` still sees the character before).
    markers = [index for index in map(text.find, ("@", "://", "www.")) if index >= 0]
    if markers:
        for match in _CCTLD.finditer(text, min(markers) if prefilter else 0):
            tld = match.group(1).lower()
            region = _TLD_REGIONS.get(tld, tld.upper())
            if national_rules(region)[0]:
                found.append((match.start(), region))
    ordered: dict[str, None] = {}
    for _, region in sorted(found, key=lambda pair: pair[0]):
        ordered.setdefault(region)
    return tuple(ordered)
