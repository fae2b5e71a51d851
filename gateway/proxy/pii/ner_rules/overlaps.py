"""Resolve overlapping spans and join neighbours that make one name.

Sure spans beat guessed ones, longer beat shorter, group by group so the
cost stays n log n; then a guessed span "and"-ed to a PERSON becomes one, and
neighbours that continue a name are joined.
"""

from __future__ import annotations

import bisect

from gateway.proxy.pii.ner_rules.words import PARTICLES, capitalised


def coordinated_with_person(text: str, kept: list[tuple[str, int, int, bool]], index: int) -> bool:
    """Tell whether a guessed place or firm of two or three plain words is "and"-ed to a PERSON.

    "and" joins like with like: in "Mr. Mahal and Loreto Muro" or "Jane
    Caldwell and Marina Seifert" the second is a person whatever the model
    said. A legal form or any word that is not a capitalised one keeps it.
    """
    entity, start, end, _ = kept[index]
    words = text[start:end].split(" ")
    if entity == "PERSON" or not 2 <= len(words) <= 3 or not all(map(capitalised, words)):
        return False
    before = kept[index - 1] if index else None
    after = kept[index + 1] if index + 1 < len(kept) else None
    return (
        before is not None and before[0] == "PERSON" and text[before[2] : start] == " and "
    ) or (after is not None and after[0] == "PERSON" and text[end : after[1]] == " and ")


def keep_apart(
    sure: list[tuple[str, int, int]], guessed: list[tuple[str, int, int]]
) -> list[tuple[str, int, int, bool]]:
    """Keep one span of each overlapping group, sure before guessed, then longer; by start.

    Each group of spans linked by overlaps is resolved on its own, as in
    `gateway.proxy.pii.spans`, so the cost stays n log n over the text.
    """
    spans = sorted(
        [(False, *span) for span in sure if span[1] < span[2]]
        + [(True, *span) for span in guessed if span[1] < span[2]],
        key=lambda span: (span[2], span[3]),
    )
    kept: list[tuple[str, int, int, bool]] = []
    group: list[tuple[bool, str, int, int]] = []
    group_end = -1
    for span in spans:
        if group and span[2] >= group_end:
            kept.extend(_keep_one_each(group))
            group = []
        group.append(span)
        group_end = max(group_end, span[3]) if len(group) > 1 else span[3]
    if group:
        kept.extend(_keep_one_each(group))
    return kept


def _keep_one_each(group: list[tuple[bool, str, int, int]]) -> list[tuple[str, int, int, bool]]:
    """Resolve one group of overlapping spans; the result is sorted by start."""
    starts: list[int] = []
    kept: list[tuple[str, int, int, bool]] = []
    for is_guess, entity, start, end in sorted(group, key=lambda s: (s[0], s[2] - s[3], s[2])):
        index = bisect.bisect_right(starts, start)
        if index and kept[index - 1][2] > start:
            continue
        if index < len(kept) and kept[index][1] < end:
            continue
        starts.insert(index, start)
        kept.insert(index, (entity, start, end, not is_guess))
    return kept


def joined(text: str, last: tuple[str, int, int], last_sure: bool, entity: str, start: int) -> bool:
    """Tell whether the span at `start` continues the `last` one as one name."""
    last_entity, last_start, last_end = last
    gap = text[last_end:start]
    if gap == " ":
        # The model sometimes cuts one name in two ("Ana" "Laura Oliveira"),
        # or calls a first name a place ("Théophile" "Leroux").
        return last_entity == entity or (
            entity == "PERSON" and not last_sure and " " not in text[last_start:last_end]
        )
    # "Jaylinn" "van 't" "Wel": surname particles join the parts of a name.
    words = gap.split(" ")
    return (
        entity == last_entity == "PERSON"
        and len(words) > 2
        and words[0] == words[-1] == ""
        and all(word in PARTICLES for word in words[1:-1])
    )
