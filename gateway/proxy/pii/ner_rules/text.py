"""The text as the model reads it: its length-preserving view, its chunks, and lines.

These run before any rule: `ner` translates the text with MODEL_VIEW and
feeds it to the model in `chunks`; `refine` cuts each model span into
`lines` first.
"""

from __future__ import annotations

from collections.abc import Iterator

# The model reads a length-preserving view of the text: quotes, brackets and
# `=` become spaces. Trained on edited prose, it takes a quoted string for a
# title (WORK_OF_ART) and misses names in JSON and key="value" logs.
MODEL_VIEW = str.maketrans(dict.fromkeys('"{}[]<>=|', " "))
_BREAKS = ("\n\n", "\n", ". ", " ")


def chunks(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """Yield (offset, piece) covering `text`, each piece at most `limit` characters.

    A piece ends at the last paragraph break in its window, else the last line
    break, sentence end or space, and only without any of these mid-word.
    Each window is searched once, so the whole split is linear.
    """
    position = 0
    while len(text) - position > limit:
        end = position + limit
        for separator in _BREAKS:
            cut = text.rfind(separator, position + 1, end)
            if cut > position:
                end = cut + len(separator)
                break
        yield position, text[position:end]
        position = end
    if position < len(text):
        yield position, text[position:]


def lines(start: int, text: str) -> Iterator[tuple[int, int]]:
    """Split one model span at line breaks: no name, place or company spans two lines.

    The model reads a newline as ordinary whitespace, so the signature lines
    of an email ("Ann Lee\nLee & Sons") come back as one entity; each line
    keeps the model's label.
    """
    offset = 0
    for piece in text.split("\n"):
        if piece.strip():
            yield start + offset, start + offset + len(piece)
        offset += len(piece) + 1
