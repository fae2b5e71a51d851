"""A logged exception names its type and where it was raised, never its message."""

from __future__ import annotations

import re

import pytest

from gateway.shared.safe_errors import describe

SECRET = "sk-live-do-not-log-4242"


def _parse(body: str) -> int:
    # As a decoder or a database would: the message quotes what it refused.
    raise ValueError(f"invalid literal for int() with base 10: {body!r}")


def test_a_described_error_names_its_type_and_place_but_never_what_it_quotes() -> None:
    with pytest.raises(ValueError, match=SECRET) as raised:
        _parse(SECRET)
    described = describe(raised.value)
    assert described.startswith("ValueError raised at ")
    assert re.search(r"test_safe_errors\.py:\d+ in _parse$", described)
    assert SECRET not in described


def test_an_error_never_raised_is_described_by_its_type() -> None:
    assert describe(KeyError(SECRET)) == "KeyError"
