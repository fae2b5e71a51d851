"""Fold adversarial Unicode into plain text for matching, keeping an offset map.

Detectors run on the folded text; `Normalized.span` maps a folded span back to
the original string, so redaction always cuts the text the caller sent.

Folding, per character (never across characters, so offsets stay exact):
- invisible format characters are dropped: zero-width space/joiners, word
  joiner, BOM, soft hyphen, bidi controls (Unicode category Cf) and the
  combining grapheme joiner, so `4111<ZWSP>1111...` reads as a card number;
- everything else non-ASCII goes through NFKC, so full-width digits and
  letters become ASCII, and the Unicode dashes become `-`.
Lone surrogates (category Cs) are kept as they are: NFKC leaves them alone
and no detector matches them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_ALSO_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """Return what one non-ASCII character reads as ("" for invisible ones)."""
    if char in _DASHES:
        return "-"
    if char in _ALSO_INVISIBLE:
        return ""
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Cs":
        return char
    return unicodedata.normalize("NFKC", char)


@dataclass(frozen=True, slots=True)
class Normalized:
    """Folded text plus, when it differs from the original, an offset map.

    `origin[i]` is the original index of folded character `i`; `None` means
    every character folded to exactly one (pure ASCII, the common case,
    accents, other scripts, full-width forms) and indexes are shared.
    """

    text: str
    original_length: int
    origin: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map the folded span [start, end) to the original text."""
        if self.origin is None:
            return start, end
        if start >= end:
            position = self.origin[start] if start < len(self.origin) else self.original_length
            return position, position
        # The end is one past the original of the last folded character, so
        # a character that NFKC expanded ("ﬁ" -> "fi") is covered whole.
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> Normalized:
    """Fold `text` for matching (see the module docstring)."""
    if text.isascii():
        return Normalized(text, len(text), None)
    folds = {char: _fold_char(char) for char in set(text) if not char.isascii()}
    # Most non-ASCII text (accents, other scripts, full-width digits) folds
    # character for character: the lengths agree, so there is no map to keep
    # and str.translate does the folding.
    if all(len(folded) == 1 for folded in folds.values()):
        table = {ord(char): folded for char, folded in folds.items() if folded != char}
        return Normalized(text.translate(table) if table else text, len(text), None)
    parts: list[str] = []
    origin: list[int] = []
    position = 0
    for run in _NON_ASCII.finditer(text):
        if run.start() > position:
            parts.append(text[position : run.start()])
            origin.extend(range(position, run.start()))
        for index in range(run.start(), run.end()):
            folded = _fold_char(text[index])
            if folded:
                parts.append(folded)
                origin.extend([index] * len(folded))
        position = run.end()
    if position < len(text):
        parts.append(text[position:])
        origin.extend(range(position, len(text)))
    return Normalized("".join(parts), len(text), tuple(origin))
