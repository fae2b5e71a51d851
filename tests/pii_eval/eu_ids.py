"""Generate valid EU national identity numbers with python-stdnum's checksum helpers."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from faker import Faker
from stdnum.be import nn as be_nn
from stdnum.de import idnr as de_idnr
from stdnum.dk import cpr as dk_cpr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fi import hetu as fi_hetu
from stdnum.fr import nir as fr_nir
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.se import personnummer as se_personnummer

from tests.pii_eval.values import Value, birth_date, digits, luhn_check_digit


def _fr_nir(rng: random.Random) -> str:
    born = birth_date(rng)
    head = f"{rng.randint(1, 2)}{born:%y%m}{rng.randint(1, 95):02d}{digits(rng, 6)}"
    return head + fr_nir.calc_check_digits(head)


def _it_codicefiscale(rng: random.Random) -> str:
    born, letters = birth_date(rng), string.ascii_uppercase
    day = born.day + (40 if rng.random() < 0.5 else 0)
    head = (
        "".join(rng.choice(letters) for _ in range(6))
        + f"{born:%y}{'ABCDEHLMPRST'[born.month - 1]}{day:02d}"
        + rng.choice("ABCDEFGHLM")
        + digits(rng, 3)
    )
    return head + it_codicefiscale.calc_check_digit(head)


def _de_idnr(rng: random.Random) -> str:
    while True:
        pool = rng.sample(string.digits, 9)
        pool.append(rng.choice(pool))
        rng.shuffle(pool)
        head = "".join(pool)
        if head[0] != "0":
            return head + mod_11_10.calc_check_digit(head)


def _nl_bsn(rng: random.Random) -> str:
    while True:
        number = rng.choice("123456789") + digits(rng, 8)
        if nl_bsn.is_valid(number):
            return number


def _be_nn(rng: random.Random) -> str:
    head = f"{birth_date(rng):%y%m%d}{rng.randint(1, 997):03d}"
    return head + f"{97 - int(head) % 97:02d}"


def _pl_pesel(rng: random.Random) -> str:
    head = f"{birth_date(rng):%y%m%d}{digits(rng, 4)}"
    return head + pl_pesel.calc_check_digit(head)


def _se_personnummer(rng: random.Random) -> str:
    head = f"{birth_date(rng):%y%m%d}{digits(rng, 3)}"
    return f"{head[:6]}-{head[6:]}{luhn_check_digit(head)}"


def _fi_hetu(rng: random.Random) -> str:
    born = birth_date(rng, 1950, 2005)
    serial = f"{rng.randint(2, 899):03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{born:%d%m%y}{serial}") % 31]
    return f"{born:%d%m%y}{'-' if born.year < 2000 else 'A'}{serial}{check}"


def _dk_cpr(rng: random.Random) -> str:
    born = birth_date(rng, 1950, 1999)
    return f"{born:%d%m%y}-{rng.randint(0, 3)}{digits(rng, 3)}"


def _es_dni(rng: random.Random) -> str:
    head = digits(rng, 8)
    return head + es_dni.calc_check_digit(head)


def _es_nie(rng: random.Random) -> str:
    head = rng.choice("XYZ") + digits(rng, 7)
    return head + es_nie.calc_check_digit(head)


# name, generator, validator, context words a reader would put before it
EU_IDS: tuple[tuple[str, Callable[[random.Random], str], Callable[[str], bool], str], ...] = (
    ("fr.nir", _fr_nir, fr_nir.is_valid, "numéro de sécurité sociale"),
    ("it.codicefiscale", _it_codicefiscale, it_codicefiscale.is_valid, "codice fiscale"),
    ("de.idnr", _de_idnr, de_idnr.is_valid, "Steuer-ID"),
    ("nl.bsn", _nl_bsn, nl_bsn.is_valid, "BSN"),
    ("be.nn", _be_nn, be_nn.is_valid, "national number"),
    ("pl.pesel", _pl_pesel, pl_pesel.is_valid, "PESEL"),
    ("se.personnummer", _se_personnummer, se_personnummer.is_valid, "personnummer"),
    ("fi.hetu", _fi_hetu, fi_hetu.is_valid, "henkilötunnus"),
    ("dk.cpr", _dk_cpr, dk_cpr.is_valid, "CPR-nummer"),
    ("es.dni", _es_dni, es_dni.is_valid, "DNI"),
    ("es.nie", _es_nie, es_nie.is_valid, "NIE"),
)


def eu_national_id(rng: random.Random, fake: Faker) -> Value:
    """Return a valid EU id; its variant names the country module, for the context label."""
    name, generate, is_valid, _ = rng.choice(EU_IDS)
    number = generate(rng)
    assert is_valid(number), (name, number)
    if name == "be.nn" and rng.random() < 0.5:
        number = f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}"
    return Value(number, name)
