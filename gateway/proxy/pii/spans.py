"""Findings and the rule that turns overlapping findings into one span each.

Overlap rule: when two findings share at least one character, keep one:
1. the more specific entity type wins (`SPECIFICITY`, highest first):
   checksum- or structure-validated types (email, IBAN, card, crypto, EU
   IDs, SSN/ITIN, IP) beat phone numbers, which beat the context-only US
   passport and driver's licence numbers; a tenant's custom pattern ranks
   with phone numbers (`CUSTOM_SPECIFICITY`), and NER's PERSON, LOCATION
   and ORGANIZATION, which are statistical guesses, rank last but above
   nothing;
2. between equally specific findings, the longer one wins;
3. then the earlier one.
Candidates are accepted greedily in that order, each only if it overlaps
nothing accepted before, and the result is sorted by start. Adjacent spans
(one ends where the next starts) do not overlap.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

SPECIFICITY: dict[str, int] = {
    "EMAIL": 100,
    "IBAN": 95,
    "CREDIT_CARD": 90,
    "CRYPTO": 85,
    "EU_NATIONAL_ID": 80,
    "US_SSN": 75,
    "US_ITIN": 75,
    "IP_ADDRESS": 70,
    "PHONE": 50,
    "US_PASSPORT": 30,
    "US_DRIVER_LICENSE": 20,
    "PERSON": 15,
    "ORGANIZATION": 12,
    "LOCATION": 10,
}
# Any entity name not above (a tenant's custom pattern name).
CUSTOM_SPECIFICITY = 50


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: its type, its [start, end) span and who found it."""

    entity: str
    start: int
    end: int
    detector: str


def _rank(finding: Finding) -> tuple[int, int, int]:
    return (
        -SPECIFICITY.get(finding.entity, CUSTOM_SPECIFICITY),
        finding.start - finding.end,
        finding.start,
    )


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep one finding per overlapping group (see the module docstring)."""
    # Findings that share no character with any other, directly or through
    # a chain, cannot affect each other: each such group is resolved on its
    # own, so a text with many findings costs n log n, not n squared.
    ordered = sorted((f for f in findings if f.start < f.end), key=lambda f: (f.start, f.end))
    kept: list[Finding] = []
    group: list[Finding] = []
    group_end = -1
    for finding in ordered:
        if group and finding.start >= group_end:
            kept.extend(_resolve_group(group))
            group = []
        group.append(finding)
        group_end = max(group_end, finding.end) if len(group) > 1 else finding.end
    if group:
        kept.extend(_resolve_group(group))
    return kept


def _resolve_group(findings: list[Finding]) -> list[Finding]:
    if len(findings) == 1:
        return findings
    starts: list[int] = []
    kept: list[Finding] = []
    for finding in sorted(findings, key=_rank):
        index = bisect.bisect_right(starts, finding.start)
        # Kept spans never overlap each other, so only the neighbours on
        # either side of the insertion point can overlap this one.
        if index > 0 and kept[index - 1].end > finding.start:
            continue
        if index < len(kept) and kept[index].start < finding.end:
            continue
        starts.insert(index, finding.start)
        kept.insert(index, finding)
    return kept
