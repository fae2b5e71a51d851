"""Helpers for the pricing tests: price files written to a temporary directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

WriteFile = Callable[[str], Path]


@pytest.fixture
def price_file(tmp_path: Path) -> WriteFile:
    """Write a pricing YAML (dedented) and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "extra-prices.yaml"
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write
