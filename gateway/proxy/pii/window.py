"""Redact streamed text with a carry-over window: release only what can no longer be an entity.

WindowRedactor: text deltas in, redacted text out. It releases only text
that can no longer be part of an entity and holds back the tail from the
last place one could still be growing:

- the trailing token (no whitespace yet after it): `bob` may become
  `bob@example.com`, `<EMAIL_3f` a pseudonym token to restore;
- before it, whitespace-separated groups that can join a number-like entity
  (cards `4111 1111 …`, phones `+1 (555) 123-4567`, IBANs `GB82 WEST 1234 …`):
  groups holding a digit, or of at most four capitals, digits or `+()-./#`,
  and, when the policy has NER, capitalised words (`Ada Lovelace`);
  separated by at most three spaces on one line;
- never more than MAX_WINDOW characters: past that the head is released.

So prose is released as soon as the word after it has begun, and time to
first token grows by at most one window. Every release is redacted with the
findings of the window plus CONTEXT_CHARS of already released text (context
words such as "passport no." stay visible), cut where no finding crosses, so
for text whose entities are local the output equals the non-streamed
redaction of the whole (tests/gateway/proxy/pii/test_stream.py checks every split point).
"""

from __future__ import annotations

import re
from typing import Any

from gateway.proxy.pii.redactor import Redactor
from gateway.proxy.pii.spans import Finding

MAX_WINDOW = 256
CONTEXT_CHARS = 96
_GROUP = re.compile(r"\S+")
_GAP_MAX = 3
_SYMBOLS = frozenset("+()-./#")


def _joinable(token: str, names: bool) -> bool:
    """Can this whitespace-separated group be part of an entity spanning several groups?"""
    if any(char.isdigit() for char in token):
        return True
    if len(token) <= 4 and all(char.isupper() or char in _SYMBOLS for char in token):
        return True
    return names and token[:1].isupper()


def hold_start(text: str, names: bool) -> int:
    """Return the index from which `text` could still be part of a growing entity."""
    length = len(text)
    base = max(0, length - MAX_WINDOW)
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(text, base)]
    if not groups:
        return length
    start, end = groups[-1]
    if end == length:
        hold = start  # the trailing group is still being written
        if not _joinable(text[start:end], names):
            return hold
    else:
        gap = text[end:]
        if len(gap) > _GAP_MAX or "\n" in gap or not _joinable(text[start:end], names):
            return length
        hold = start
    for start, end in reversed(groups[:-1]):
        gap = text[end:hold]
        if len(gap) > _GAP_MAX or "\n" in gap or not _joinable(text[start:end], names):
            break
        hold = start
    return max(hold, base)


class WindowRedactor:
    """One stream of text deltas (a choice's content, one tool call's arguments)."""

    __slots__ = ("_context", "_json", "_names", "_pending", "_redactor")

    def __init__(self, redactor: Redactor, json_escaped: bool = False) -> None:
        self._redactor = redactor
        self._json = json_escaped
        self._names = bool(redactor.policy.ner_types)
        self._context = ""  # already released original text, for context words
        self._pending = ""

    def feed(self, delta: str) -> str:
        """Take the next delta; return the redacted text that is now final (may be "")."""
        if not delta:
            return ""
        self._pending += delta
        cut = hold_start(self._pending, self._names)
        if cut <= 0:
            return ""
        return self._release(cut, final=False)

    def flush(self) -> str:
        """End of the stream: return the rest, redacted."""
        if not self._pending:
            return ""
        return self._release(len(self._pending), final=True)

    def _release(self, cut: int, final: bool) -> str:
        context, pending = self._context, self._pending
        offset = len(context)
        found = self._redactor.findings(context + pending)
        findings: list[Finding] = []
        for finding in found:
            start, end = finding.start - offset, finding.end - offset
            if end <= 0:
                continue  # released already
            if start < 0:
                start = 0  # began in released text (only past MAX_WINDOW): redact the rest
            if not final and start < cut < end:
                cut = start  # never cut through a finding
            findings.append(Finding(finding.entity, start, end, finding.detector))
        if cut <= 0:
            return ""
        head = [f for f in findings if f.end <= cut]
        released = pending[:cut]
        self._context = (context + released)[-CONTEXT_CHARS:]
        self._pending = pending[cut:]
        return self._redactor.apply(released, head, "answer", self._json)


class Windows:
    """Windows by key, created on first use."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.open: dict[Any, WindowRedactor] = {}

    def feed(self, key: Any, text: str, json_escaped: bool = False) -> str:
        window = self.open.get(key)
        if window is None:
            window = self.open[key] = WindowRedactor(self.redactor, json_escaped)
        return window.feed(text)

    def flush(self, key: Any) -> str:
        window = self.open.pop(key, None)
        return window.flush() if window is not None else ""
