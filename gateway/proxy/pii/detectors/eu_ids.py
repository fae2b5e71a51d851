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

from gateway.proxy.pii.detectors._common import has_context
from gateway.proxy.pii.spans import Finding

_BEFORE = r"(?<![A-Za-z0-9\-./])"
_AFTER = r"(?![A-Za-z0-9]|[\-./][0-9A-Za-z])"


@dataclass(frozen=True, slots=True)
class _NationalId:
    name: str
    pattern: re.Pattern[str]
    is_valid: Callable[[str], bool]
    context: re.Pattern[str] | None = None


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
    _NationalId("es.dni", _pattern(r"[0-9]{8}-?[A-Za-z]"), es_dni.is_valid),
    _NationalId("es.nie", _pattern(r"[XYZxyz]-?[0-9]{7}-?[A-Za-z]"), es_nie.is_valid),
    _NationalId(
        "it.codicefiscale",
        _pattern(
            r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
            r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]"
        ),
        it_codicefiscale.is_valid,
    ),
    _NationalId(
        "fi.hetu", _pattern(r"[0-9]{6}[-+ABCDEFUVWXY][0-9]{3}[0-9A-Ya-y]"), fi_hetu.is_valid
    ),
    _NationalId(
        "se.personnummer", _pattern(r"(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}"), se_personnummer.is_valid
    ),
    _NationalId("dk.cpr", _pattern(r"[0-9]{6}-[0-9]{4}"), dk_cpr.is_valid),
    _NationalId(
        "be.nn", _pattern(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}"), be_nn.is_valid
    ),
    _NationalId(
        "be.nn",
        _pattern(r"[0-9]{11}"),
        be_nn.is_valid,
        re.compile(r"(?i)\b(?:rijksregister\w*|registre\s+national|national\s+(?:number|id)|nn)\b"),
    ),
    _NationalId(
        "de.idnr",
        _pattern(r"[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}"),
        de_idnr.is_valid,
        re.compile(
            r"(?i)\b(?:steuer\s*-?\s*id\w*|idnr|identifikationsnummer|tin|tax\s+id\w*|national\s+id)\b"
        ),
    ),
    _NationalId(
        "nl.bsn",
        _pattern(r"[0-9]{4}\.?[0-9]{2}\.?[0-9]{3}|[0-9]{9}"),
        nl_bsn.is_valid,
        re.compile(r"(?i)\b(?:bsn|burgerservicenummer|sofi\w*|national\s+id)\b"),
    ),
    _NationalId(
        "pl.pesel",
        _pattern(r"[0-9]{11}"),
        pl_pesel.is_valid,
        re.compile(r"(?i)\b(?:pesel|national\s+id)\b"),
    ),
)


def detect_eu_national_ids(text: str) -> Iterator[Finding]:
    """Yield EU national ID numbers that python-stdnum validates."""
    for national_id in _NATIONAL_IDS:
        for match in national_id.pattern.finditer(text):
            if national_id.context is not None and not has_context(
                text, match.start(), national_id.context
            ):
                continue
            if national_id.is_valid(match.group()):
                yield Finding("EU_NATIONAL_ID", match.start(), match.end(), national_id.name)
