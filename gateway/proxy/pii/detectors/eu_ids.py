"""EU national identity numbers that python-stdnum validates.

Formats with a check letter or a distinctive layout are found anywhere;
bare digit strings whose checksum passes for many random numbers (German
tax ID, Dutch BSN, Polish PESEL, Belgian number unformatted) need a context
word before them, as order numbers and phone numbers would match otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum.be import nn as be_nn
from stdnum.de import idnr as de_idnr
from stdnum.dk import cpr as dk_cpr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fi import hetu as fi_hetu
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.se import personnummer as se_personnummer

from gateway.proxy.pii.detectors._common import digit_span, has_context
from gateway.proxy.pii.spans import Finding

_BEFORE = r"(?<![A-Za-z0-9\-./])"
_AFTER = r"(?![A-Za-z0-9]|[\-./][0-9A-Za-z])"


@dataclass(frozen=True, slots=True)
class _NationalId:
    name: str
    pattern: re.Pattern[str]
    is_valid: Callable[[str], bool]
    context: re.Pattern[str] | None = None
    # The possible lengths of the first digit run of a match (None: any),
    # so runs of other lengths are not tried.
    first_runs: frozenset[int] | None = None


def _pattern(body: str) -> re.Pattern[str]:
    return re.compile(_BEFORE + "(?:" + body + ")" + _AFTER, re.ASCII)


_NATIONAL_IDS: tuple[_NationalId, ...] = (
    _NationalId(
        "fr.nir",
        _pattern(
            r"[12] ?[0-9]{2} ?(?:0[1-9]|1[0-2]|[2-9][0-9]) ?(?:[0-9]{2}|2[AB])"
            r" ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"
        ),
        fr_nir.is_valid,
    ),
    _NationalId(
        "es.dni", _pattern(r"[0-9]{8}-?[A-Za-z]"), es_dni.is_valid, first_runs=frozenset({8})
    ),
    _NationalId(
        "es.nie",
        _pattern(r"[XYZxyz]-?[0-9]{7}-?[A-Za-z]"),
        es_nie.is_valid,
        first_runs=frozenset({7}),
    ),
    _NationalId(
        "it.codicefiscale",
        _pattern(
            r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
            r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]"
        ),
        it_codicefiscale.is_valid,
    ),
    _NationalId(
        "fi.hetu",
        _pattern(r"[0-9]{6}[-+ABCDEFUVWXY][0-9]{3}[0-9A-Ya-y]"),
        fi_hetu.is_valid,
        first_runs=frozenset({6}),
    ),
    _NationalId(
        "se.personnummer",
        _pattern(r"(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}"),
        se_personnummer.is_valid,
        first_runs=frozenset({6, 8}),
    ),
    _NationalId(
        "dk.cpr", _pattern(r"[0-9]{6}-[0-9]{4}"), dk_cpr.is_valid, first_runs=frozenset({6})
    ),
    _NationalId(
        "be.nn",
        _pattern(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}"),
        be_nn.is_valid,
        first_runs=frozenset({2}),
    ),
    _NationalId(
        "be.nn",
        _pattern(r"[0-9]{11}"),
        be_nn.is_valid,
        re.compile(r"(?i)\b(?:rijksregister\w*|registre\s+national|national\s+(?:number|id)|nn)\b"),
        first_runs=frozenset({11}),
    ),
    _NationalId(
        "de.idnr",
        _pattern(r"[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}"),
        de_idnr.is_valid,
        re.compile(
            r"(?i)\b(?:steuer\s*-?\s*id\w*|idnr|identifikationsnummer|tin|tax\s+id\w*|national\s+id)\b"
        ),
        first_runs=frozenset({2, 5, 8, 11}),
    ),
    _NationalId(
        "nl.bsn",
        _pattern(r"[0-9]{4}\.?[0-9]{2}\.?[0-9]{3}|[0-9]{9}"),
        nl_bsn.is_valid,
        re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofi\w*|national\s+id)\b"),
        first_runs=frozenset({4, 6, 9}),
    ),
    _NationalId(
        "pl.pesel",
        _pattern(r"[0-9]{11}"),
        pl_pesel.is_valid,
        re.compile(r"(?i)\b(?:pesel|national\s+id)\b"),
        first_runs=frozenset({11}),
    ),
)


def detect_eu_national_ids(text: str) -> Iterator[Finding]:
    """Yield EU national ID numbers that python-stdnum validates."""
    yield from _detect(text, _NATIONAL_IDS)


def detect_eu_numeric_ids(text: str) -> Iterator[Finding]:
    """Yield the EU national IDs printed mostly in digits (all but the codice fiscale).

    Each of their patterns starts at the first digit of a run (or at the
    NIE's letter just before one) and holds at least six digits in groups
    one character apart, so only such runs are tried (and only those of a
    length the pattern's first group can have), with `match` where
    `finditer` would scan every position: the findings are the same.
    """
    starts = _chain_starts(text)
    if not starts:
        return
    if len(starts) * _RUNS_PER_SCAN > len(text):
        # Runs nearly everywhere (a megabyte of "1-1-1-"): one scan per
        # pattern is cheaper than a match per run, and finds the same.
        yield from _detect(text, _NUMERIC_IDS)
        return
    # Run by run, each trying only the patterns whose first group can be
    # that long; the findings come out in the order of the pattern-by-pattern
    # scan (resolving overlaps keeps the first of two equal candidates).
    found: list[tuple[int, Finding]] = []
    last_ends = [0] * len(_NUMERIC_IDS)
    for run_start, run_length in starts:
        for index, national_id in _IDS_BY_FIRST_RUN.get(run_length, _IDS_FOR_ANY_RUN):
            positions = (run_start - 2, run_start - 1) if index == _NIE else (run_start,)
            for position in positions:
                if position < last_ends[index]:
                    continue
                match = national_id.pattern.match(text, position)
                if match is None:
                    continue
                last_ends[index] = match.end()
                if _accepts(text, national_id, match):
                    finding = Finding("EU_NATIONAL_ID", *match.span(), national_id.name)
                    found.append((index, finding))
    found.sort(key=lambda item: item[0])
    for _, finding in found:
        yield finding


_SEPARATOR = re.compile(r"[^0-9]")
_MIN_DIGITS = 6
# Digit runs one character apart holding at least six digits. Each
# repetition takes one digit and the separator before it can be taken one
# way only (possessive), so the scan is linear; a shorter chain fails in the
# regex engine, with no Python step, and so does every start inside it.
_CHAIN = re.compile(rf"[0-9](?:[^0-9]?+[0-9]){{{_MIN_DIGITS - 1},}}+")
# A match attempt costs about as much as scanning this many characters.
_RUNS_PER_SCAN = 16


def _chain_starts(text: str) -> list[tuple[int, int]]:
    """Return the start and length of digit runs that begin a chain of at least six digits.

    A chain is runs one character apart ("85.07.30-033.28", "1 85 05 2A").
    """
    starts: list[tuple[int, int]] = []
    span = digit_span(text)
    if span is None:
        return starts
    for chain in _CHAIN.finditer(text, *span):
        # The runs of a chain are split apart by its one-character separators.
        runs = [len(run) for run in _SEPARATOR.split(chain.group())]
        following = sum(runs)
        position = chain.start()
        for length in runs:
            if following < _MIN_DIGITS:
                break
            starts.append((position, length))
            following -= length
            position += length + 1
    return starts


def _accepts(text: str, national_id: _NationalId, match: re.Match[str]) -> bool:
    if national_id.context is not None and not has_context(
        text, match.start(), national_id.context
    ):
        return False
    return national_id.is_valid(match.group())


def detect_codici_fiscali(text: str) -> Iterator[Finding]:
    """Yield Italian codici fiscali, whose digits may all be spelled as letters."""
    yield from _detect(text, _CODICE_FISCALE)


def _detect(text: str, national_ids: tuple[_NationalId, ...]) -> Iterator[Finding]:
    for national_id in national_ids:
        for match in national_id.pattern.finditer(text):
            if _accepts(text, national_id, match):
                yield Finding("EU_NATIONAL_ID", match.start(), match.end(), national_id.name)


_CODICE_FISCALE = tuple(n for n in _NATIONAL_IDS if n.name == "it.codicefiscale")
_NUMERIC_IDS = tuple(n for n in _NATIONAL_IDS if n.name != "it.codicefiscale")
# The NIE starts with a letter, so it is tried one and two characters early.
_NIE = next(index for index, n in enumerate(_NUMERIC_IDS) if n.name == "es.nie")
# The numeric IDs (with their index) to try at a run of a given length.
_IDS_FOR_ANY_RUN = tuple((i, n) for i, n in enumerate(_NUMERIC_IDS) if n.first_runs is None)
_IDS_BY_FIRST_RUN = {
    length: tuple(
        (i, n) for i, n in enumerate(_NUMERIC_IDS) if n.first_runs is None or length in n.first_runs
    )
    for length in frozenset().union(*(n.first_runs or () for n in _NUMERIC_IDS))
}
