"""PII detection for the proxy: validator-based detectors over folded text.

    detect(text, entities=None, *, prefilter=True) -> list[Finding]

Findings are sorted, never overlap, and their offsets index the original
`text` even when zero-width or full-width characters were folded away for
matching. A prompt is read once by `detectors.prefilter` first, and only
the detectors that could match it run (a prose prompt without digits or
`@` costs that one pass). No Django here: the proxy imports this.
"""

from __future__ import annotations

from gateway.proxy.pii.detectors import DETECTORS, ENTITY_TYPES, LATE_DETECTORS
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
    wanted = ENTITY_TYPES if entities is None else entities & ENTITY_TYPES
    if not wanted or not text:
        return []
    folded = normalize(text)
    fired = triggered(folded.text) if prefilter else TRIGGERS
    if not fired:
        return []
    found: list[Finding] = []
    for types, trigger, detector in DETECTORS:
        if trigger in fired and not types.isdisjoint(wanted):
            found.extend(finding for finding in detector(folded.text) if finding.entity in wanted)
    for types, trigger, late_detector in LATE_DETECTORS:
        if trigger not in fired or types.isdisjoint(wanted):
            continue
        # A late detector would lose every overlap with the more specific
        # findings anyway, so it reads the text with those blanked out: phone
        # matching is the slowest pass and card or IBAN digits are its worst
        # input. Blanking keeps the length, so offsets are unchanged.
        rank = min(SPECIFICITY[entity] for entity in types)
        masked = _blank(folded.text, [f for f in found if SPECIFICITY[f.entity] > rank])
        found.extend(
            finding for finding in late_detector(masked, folded.text) if finding.entity in wanted
        )
    if not found:
        return []
    return resolve_overlaps(
        Finding(finding.entity, *folded.span(finding.start, finding.end), finding.detector)
        for finding in found
    )


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
