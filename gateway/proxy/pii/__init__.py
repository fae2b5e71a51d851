"""PII detection for the proxy: validator-based detectors over folded text.

    detect(text, entities=None, *, prefilter=True) -> list[Finding]

Findings are sorted, never overlap, and their offsets index the original
`text` even when zero-width or full-width characters were folded away for
matching. A prompt is read once by `detectors.prefilter` first, and only
the detectors that could match it run (a prose prompt without digits or
`@` costs that one pass). No Django here: the proxy imports this.
"""

from __future__ import annotations

from functools import lru_cache

from gateway.proxy.pii.detectors import (
    DETECTORS,
    ENTITY_TYPES,
    LATE_DETECTORS,
    Detector,
    LateDetector,
)
from gateway.proxy.pii.detectors.prefilter import TRIGGERS, triggered
from gateway.proxy.pii.normalize import Normalized, normalize
from gateway.proxy.pii.spans import SPECIFICITY, Finding, resolve_overlaps


def detect(
    text: str, entities: frozenset[str] | None = None, *, prefilter: bool = True
) -> list[Finding]:
    """Find the PII of the requested entity types (all validator types when None).

    With `prefilter` (the default) one cheap pass first tells which
    detectors could match and only those run; `prefilter=False` runs every
    requested detector, the reference the fast path is tested against.
    """
    plan = _plan(ENTITY_TYPES if entities is None else entities)
    if plan is None or not text:
        return []
    wanted, needed, detectors, late_detectors = plan
    folded = normalize(text)
    fired = triggered(folded.text, needed) if prefilter else TRIGGERS
    if not fired:
        return []
    found: list[Finding] = []
    for trigger, detector in detectors:
        if trigger in fired:
            found.extend(finding for finding in detector(folded.text) if finding.entity in wanted)
    for trigger, rank, late_detector in late_detectors:
        if trigger not in fired:
            continue
        # A late detector would lose every overlap with the more specific
        # findings anyway, so it reads the text with those blanked out: phone
        # matching is the slowest pass and card or IBAN digits are its worst
        # input. Blanking keeps the length, so offsets are unchanged.
        masked = _blank(folded.text, [f for f in found if SPECIFICITY[f.entity] > rank])
        found.extend(
            finding for finding in late_detector(masked, folded.text) if finding.entity in wanted
        )
    if not found:
        return []
    if folded.origin is not None:  # else folded offsets are the text's own
        found = [
            Finding(finding.entity, *folded.span(finding.start, finding.end), finding.detector)
            for finding in found
        ]
    return resolve_overlaps(found)


_Plan = tuple[
    frozenset[str],  # the requested validator types
    frozenset[str],  # the prefilter triggers of their detectors
    tuple[tuple[str, Detector], ...],  # those detectors, with their trigger
    tuple[tuple[str, int, LateDetector], ...],  # late ones, with the rank they yield to
]


@lru_cache(maxsize=256)
def _plan(entities: frozenset[str]) -> _Plan | None:
    """Return what detect() runs for `entities`, worked out once per policy (None: nothing)."""
    wanted = entities & ENTITY_TYPES
    if not wanted:
        return None
    detectors = tuple(
        (trigger, detector)
        for types, trigger, detector in DETECTORS
        if not types.isdisjoint(wanted)
    )
    late_detectors = tuple(
        (trigger, min(SPECIFICITY[entity] for entity in types), detector)
        for types, trigger, detector in LATE_DETECTORS
        if not types.isdisjoint(wanted)
    )
    needed = frozenset(trigger for trigger, _ in detectors) | frozenset(
        trigger for trigger, _, _ in late_detectors
    )
    return wanted, needed, detectors, late_detectors


def _blank(text: str, findings: list[Finding]) -> str:
    """Return `text` with the spans of `findings` replaced by spaces."""
    if not findings:
        return text
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda finding: finding.start):
        if finding.start > position:
            parts.append(text[position : finding.start])
        if finding.end > position:
            parts.append(" " * (finding.end - max(position, finding.start)))
            position = finding.end
    parts.append(text[position:])
    return "".join(parts)


__all__ = ["ENTITY_TYPES", "Finding", "Normalized", "detect", "normalize"]
