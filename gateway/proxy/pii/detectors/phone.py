"""Phone numbers worldwide, with extensions, validated by phonenumbers.

Three passes, each only over digit clusters that could be a number:
1. phonenumbers' matcher with the US as the default region: any number
   written with `+CC` (or the US `011` exit code), and US numbers;
2. a national number with a leading trunk `0` (`030 969153`,
   `07400 323373`, `(02) 1460 3271`) can be no NANP number, which never
   starts with 0 or 1 after its country code, so it is tried against a short
   list of countries that dial a trunk 0, and kept only when it is valid
   there *and* printed in that country's own grouping (or follows a phone
   word): a guessed region needs more evidence than a stated one;
3. a number the text places in a country (a country name, a `+CC` number
   elsewhere, a ccTLD in an email address or URL, the word for phone in
   that country's language) is tried against that country's rules.

Cost: only the stretches around clusters of six or more digits are read,
never-a-phone shapes (dates, times, prices, UUIDs) are blanked first (both
in phone_windows.py), and a bare valid US number in its usual layout is read
without the matcher, whose parse is the most expensive step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers

from gateway.proxy.pii.detectors._common import has_context
from gateway.proxy.pii.detectors.phone_regions import (
    national_rules,
    region_hints,
    valid_for_region,
)
from gateway.proxy.pii.detectors.phone_windows import (
    DIGIT_CLUSTER,
    cluster_windows,
    scrubbed_window,
)
from gateway.proxy.pii.spans import Finding

# phonenumbers compiles its metadata patterns through re.compile on every
# use, and they outnumber the re module's cache; keep them compiled (the
# set is bounded by the metadata). The proxy is its only user here.
phonenumbers.enable_pattern_cache()

DEFAULT_PHONE_REGION = "US"
# phonenumbers stops after this many failed candidates per call; it bounds
# the work on adversarial input (a megabyte of near-numbers).
_PHONE_MAX_TRIES = 65535
# The common US layouts, and what may stand around one read without the
# matcher ("(415) 555-2671", "415-555-2671", "415.555.2671").
_PLAIN_NANP = re.compile(
    r"\([0-9]{3}\) ?[0-9]{3}-[0-9]{4}|[0-9]{3}([-.])[0-9]{3}\1[0-9]{4}", re.ASCII
)
_PLAIN_BEFORE = "\"'(:=,;[{<"
_PLAIN_AFTER = "\"'),.;:!?]}>"
# Text kept around a cluster for the matcher: what comes before a number
# (`+`, `(`) and an extension after it (" ext. 1234").
_LEAD = 3
_TAIL = 16

# A national number as printed: digit groups joined by short runs of phone
# punctuation, an opening bracket allowed first. Digits and separators are
# disjoint, so the match is linear. Not after a `+` (pass 1 reads those),
# nor hanging off a code by a dash, dot or slash (the tail of F554-0967-1715).
_NATIONAL = re.compile(
    r"(?<![A-Za-z0-9+_])(?<![A-Za-z0-9][\-./])"
    r"\(?[0-9]+(?:[ .\-/()]{1,3}[0-9]+)*(?![A-Za-z0-9])",
    re.ASCII,
)
_NANP_LAYOUT = [3, 3, 4]
_GROUP = re.compile(r"[0-9]+", re.ASCII)
_EXTENSION = re.compile(
    r"[ \t]*,?[ \t]*(?:ext\.?|extn\.?|extension|x|\#)[ \t.:]*[0-9]{1,7}(?![0-9])",
    re.ASCII | re.IGNORECASE,
)
# National numbers are 6 to 13 digits with the trunk 0 (Germany has shorter
# ones, which are too easily confused with any other number to guess at).
_NATIONAL_DIGITS = range(6, 14)

# Countries that dial a trunk 0 before a national number, most written-to
# first; Italy keeps its 0 as part of the number, which phonenumbers knows.
TRUNK_ZERO_REGIONS = (
    "GB", "DE", "FR", "IT", "NL", "BE", "AT", "CH", "SE", "IE",
    "AU", "NZ", "IN", "JP", "KR", "CN", "ZA",
)  # fmt: skip
_PHONE_WORD = re.compile(r"(?i)\b(?:phone|mobile|cell|tel|telephone|fax|call|whatsapp)\b")


def _valid_in(digits: str, region: str) -> bool:
    """Tell whether `digits` are a valid number of `region` written as it writes them.

    A country with a trunk 0 shows it in its national format (Germany,
    France, the UK) or not (Brazil): the 0 must be there exactly when the
    country writes it, so an order number in a text about Germany is not
    read as a German number without its 0.
    """
    country_code, lengths, pattern, trunk_zero = national_rules(region)
    if not country_code:
        return False
    national = digits[1:] if trunk_zero and digits.startswith("0") else digits
    if not national or len(national) not in lengths or pattern.fullmatch(national) is None:
        return False
    leading_zeros = len(national) - len(national.lstrip("0"))
    number = phonenumbers.PhoneNumber(
        country_code=country_code,
        national_number=int(national),
        italian_leading_zero=True if leading_zeros else None,
        number_of_leading_zeros=leading_zeros if leading_zeros > 1 else None,
    )
    if not phonenumbers.is_valid_number_for_region(number, region):
        return False
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return written.lstrip("(").startswith("0") == digits.startswith("0")


def _us_and_international(text: str) -> tuple[list[Finding], list[str]]:
    """Pass 1: phonenumbers' matcher, US by default, on the plausible clusters only.

    Returns the findings and the regions of the `+CC` numbers among them.
    """
    # Everything but clusters a number could be is blanked (same length, so
    # offsets hold): phonenumbers parses every digit group it meets, and a
    # prompt's dates, prices and counts would cost it a parse each. Without a
    # `+` a number is a NANP one (10 digits, 11 with the 1) or dialled with
    # an exit code (more).
    keep: list[tuple[int, int]] = []
    findings: list[Finding] = []
    # Clusters of fewer than six digits are never read: a number needs ten
    # digits without a `+`, six with one.
    for cluster in DIGIT_CLUSTER.finditer(text):
        start, end = cluster.span()
        digits = _digit_count(cluster.group())
        international = "+" in text[max(0, start - _LEAD) : end]
        if digits == 10 and not international:
            plain = _plain_nanp(text, start, end)
            if plain is not None:
                findings.append(plain)
                continue
        if digits >= 10 or (international and digits >= 6):
            keep.append((max(0, start - _LEAD), min(len(text), end + _TAIL)))
    if not keep:
        return findings, []
    matcher = phonenumbers.PhoneNumberMatcher(
        _keep_only(text, keep),
        DEFAULT_PHONE_REGION,
        leniency=phonenumbers.Leniency.VALID,
        max_tries=_PHONE_MAX_TRIES,
    )
    regions: list[str] = []
    for match in matcher:
        findings.append(_finding(text, match.start, match.end, match.raw_string))
        country_code = match.number.country_code
        if "+" in match.raw_string and country_code:
            region = phonenumbers.region_code_for_country_code(country_code)
            if region not in regions:
                regions.append(region)
    return findings, regions


def _plain_nanp(text: str, start: int, end: int) -> Finding | None:
    """Read a cluster that is a bare NANP number, "(415) 555-2671", without the matcher.

    The matcher's parse costs more than the rest of the detector, and for
    this one common shape its verdict is `is_valid_number`: the layout is
    checked here, and so is what the matcher checks around a number (no
    letter, `+`, currency sign or `%` next to it, no extension after it).
    Returns None for anything else, and for an invalid number, which go to
    the matcher.
    """
    if start and text[start - 1] == "(":
        start -= 1
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if not (before.isspace() or before in _PLAIN_BEFORE) or not (
        after.isspace() or after in _PLAIN_AFTER
    ):
        return None
    if any(map(str.isdigit, text[end : end + _TAIL])):
        return None
    number = _PLAIN_NANP.fullmatch(text, start, end)
    if number is None:
        return None
    national = int("".join(_GROUP.findall(number.group())))
    # Valid in the US is valid (the US is the first region of +1 that
    # is_valid_number tries), asked of patterns compiled once; the rest of
    # the NANP costs phonenumbers' lookup each.
    if not (
        valid_for_region(str(national), DEFAULT_PHONE_REGION)
        or phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=1, national_number=national)
        )
    ):
        # The matcher may still find a shorter number inside; let it look.
        return None
    return Finding("PHONE", start, end, "phonenumbers")


def _digit_count(text: str) -> int:
    return sum(map(text.count, "0123456789"))


def _keep_only(text: str, spans: list[tuple[int, int]]) -> str:
    """Return `text` with everything outside the sorted `spans` blanked."""
    parts: list[str] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if start > position:
            parts.append(" " * (start - position))
        if end > start:
            parts.append(text[start:end])
            position = end
    parts.append(" " * (len(text) - position))
    return "".join(parts)


def _finding(text: str, start: int, end: int, raw: str) -> Finding:
    # phonenumbers keeps an opening bracket without its closing one:
    # "(+1 201-541-8575)" gives "(+1 201-541-8575"; "(201) 555-0100" stays.
    if text[start] == "(" and ")" not in raw:
        start += 1
    return Finding("PHONE", start, end, "phonenumbers")


class _Hints:
    """The regions a text names, read once and only when a number needs them."""

    def __init__(self, text: str, dialled: list[str]) -> None:
        self.text, self.dialled = text, dialled
        self._regions: tuple[str, ...] | None = None

    @property
    def regions(self) -> tuple[str, ...]:
        if self._regions is None:
            self._regions = tuple(dict.fromkeys([*self.dialled, *region_hints(self.text)]))
        return self._regions


def _national_candidates(text: str, clusters: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """Yield what `_NATIONAL.finditer(text)` yields within `clusters`, trying only run starts.

    A candidate starts at its first digit run (or the bracket before it),
    and lies within one cluster: its groups are at most three apart.
    """
    last_end = 0
    for cluster_start, cluster_end in clusters:
        for run in _GROUP.finditer(text, cluster_start, cluster_end):
            position = run.start()
            if position < last_end:
                continue
            candidate = None
            if position and text[position - 1] == "(" and position - 1 >= last_end:
                candidate = _NATIONAL.match(text, position - 1)
            if candidate is None:
                candidate = _NATIONAL.match(text, position)
            if candidate is not None:
                last_end = candidate.end()
                yield candidate


def _national(
    text: str, clusters: list[tuple[int, int]], taken: list[Finding], named: _Hints
) -> Iterator[Finding]:
    """Passes 2 and 3: national numbers in the text's own regions or after a trunk 0."""
    # Candidates come in order, so one pointer walks the pass-1 findings.
    taken = sorted(taken, key=lambda found: found.start)
    index = 0
    for candidate in _national_candidates(text, clusters):
        start, end = candidate.span()
        while index < len(taken) and taken[index].end <= start:
            index += 1
        if index < len(taken) and taken[index].start < end:
            continue
        groups = _GROUP.findall(candidate.group())
        if sum(map(len, groups)) not in _NATIONAL_DIGITS:
            continue
        hints = named.regions
        layout = [len(group) for group in groups]
        guessed: tuple[str, ...] = ()
        if groups[0].startswith("0") and _may_guess(text, start, groups):
            guessed = tuple(region for region in TRUNK_ZERO_REGIONS if region not in hints)
        if not hints and not guessed:
            continue
        extension = _EXTENSION.match(text, end)
        window_end = extension.end() if extension is not None else end
        # A number is read whole or up to a group boundary ("030 969153 12"
        # may be a number and a count); longest first.
        prefixes = ["".join(groups[: count + 1]) for count in range(len(groups))]
        prefixes = [p for p in reversed(prefixes) if len(p) in _NATIONAL_DIGITS]
        for region in hints + guessed:
            if not any(_valid_in(prefix, region) for prefix in prefixes):
                continue
            # A guessed region must also be the one whose grouping the
            # number is printed in; a named one need not, unless the number
            # is printed in the NANP layout, which the US rules refused.
            leniency = phonenumbers.Leniency.VALID
            if region in guessed or layout == _NANP_LAYOUT:
                leniency = phonenumbers.Leniency.EXACT_GROUPING
            matches = phonenumbers.PhoneNumberMatcher(
                text[start:window_end], region, leniency=leniency, max_tries=8
            )
            match = next(iter(matches), None)
            if match is not None and match.start <= 1:
                yield _finding(text, start + match.start, start + match.end, match.raw_string)
                break


def _may_guess(text: str, start: int, groups: list[str]) -> bool:
    """Tell whether a number with a trunk 0 may be tried in countries the text does not name.

    Not in the NANP layout (3-3-4): that is how US numbers are printed, so
    the US rules, which refuse it, have the say. Not with the 0 printed
    alone ("0.20.28.10" is a version): the trunk 0 is written with the area
    code. Not a single block of
    digits either, unless a phone word comes before it: unformatted, a
    number starting with 0 is as likely an order, passport or tracking
    number.
    """
    if [len(group) for group in groups] == _NANP_LAYOUT or groups[0] == "0":
        return False
    return len(groups) > 1 or has_context(text, start, _PHONE_WORD)


def _uncovered(clusters: list[tuple[int, int]], taken: list[Finding]) -> list[tuple[int, int]]:
    """Return the clusters that no one pass-1 finding covers whole.

    A covered cluster holds no national candidate that does not overlap a
    finding, and `_national` skips those: a prompt whose numbers pass 1 read
    (the usual case) costs no second look. Both lists are in text order and
    the findings do not overlap, so one pointer walks them.
    """
    taken = sorted(taken, key=lambda found: found.start)
    uncovered: list[tuple[int, int]] = []
    index = 0
    for start, end in clusters:
        while index < len(taken) and taken[index].end <= start:
            index += 1
        if not (index < len(taken) and taken[index].start <= start and end <= taken[index].end):
            uncovered.append((start, end))
    return uncovered


def _shifted(findings: Iterable[Finding], offset: int) -> list[Finding]:
    return [Finding(f.entity, f.start + offset, f.end + offset, f.detector) for f in findings]


def detect_phone_numbers(text: str, unmasked: str | None = None) -> Iterator[Finding]:
    """Yield numbers phonenumbers finds VALID: US or +CC, else national (module docstring).

    `unmasked` is the text before other findings were blanked out of it, the
    place to read country hints from (the ccTLD of an email address).
    """
    # Only the stretches around clusters of six digits or more are read (a
    # number needs that many), each on its own, so the cost follows the
    # digits, not the length of the text.
    windows = cluster_windows(text)
    pieces = [(low, scrubbed_window(text, low, high, clusters)) for low, high, clusters in windows]
    found: list[list[Finding]] = []
    dialled: list[str] = []
    for offset, piece in pieces:
        findings, regions = _us_and_international(piece)
        found.append(findings)
        dialled.extend(region for region in regions if region not in dialled)
        yield from _shifted(findings, offset)
    hints = _Hints(text if unmasked is None else unmasked, dialled)
    for (offset, piece), (_, _, clusters), taken in zip(pieces, windows, found, strict=True):
        local = _uncovered([(start - offset, end - offset) for start, end in clusters], taken)
        if local:
            yield from _shifted(_national(piece, local, taken, hints), offset)
