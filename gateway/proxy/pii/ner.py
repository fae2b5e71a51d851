"""Named-entity PII (PERSON, LOCATION, ORGANIZATION) from spaCy's small English model.

Interface used by the redact stage; the loader is being written (issue 5).
"""

from __future__ import annotations

from gateway.proxy.pii.spans import Finding

NER_ENTITIES = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})


class NerUnavailable(Exception):
    """The model is not installed or failed its integrity check; callers fail closed."""


def detect_names(text: str, entities: frozenset[str]) -> list[Finding]:
    """Find the `entities` (a subset of NER_ENTITIES) in `text`; offsets index `text`."""
    raise NerUnavailable("the NER model is not installed")
