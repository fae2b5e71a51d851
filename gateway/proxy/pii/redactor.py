"""Apply a compiled PII policy to text: find, replace, count; restore in answers.

One Redactor per request. Findings of the validators, NER and the tenant's
patterns are resolved together (spans.resolve_overlaps); each kept finding
of an acted-on type is replaced by the action's text:

    mask          [EMAIL]
    pseudonymize  <EMAIL_3f2a9c>  first 6 hex of HMAC-SHA256(org key, "EMAIL\\0" + value),
                                  the value as folded (normalize), so the same value
                                  gives the same token across the org's requests
    block         prompt: 400 pii_blocked naming the type, never the value;
                  answer: [EMAIL], counted as "block" (see below)
    allow         untouched

Block in an answer masks rather than fails: the provider has answered (and
been paid), a stream may already be half-way to the client, and failing
non-streamed answers while masking streamed ones would make the two differ.
The audit still says "block" with where "answer", so an auditor sees that a
blocked type came out of a model and was withheld.

restore_in_response: pseudonym tokens the prompt got are kept in `vault`
(memory only, this request only, never logged) and put back where the answer
repeats them. Masks are not restored: `[EMAIL]` does not say which email, so
guessing would hand one caller's value to the wrong place. Restoring happens
only in the answer's text between findings, so a value the model made up is
still redacted and a restored original is never scanned again.

Fail closed: NerUnavailable becomes 503 pii_unavailable; any other detector
error 500 pii_scan_failed; the caller forwards nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable

import orjson

from gateway.proxy.errors import (
    InvalidRequest,
    NerUnavailable,
    PiiBlocked,
    PiiScanFailed,
    PiiUnavailable,
)
from gateway.proxy.pii import detect
from gateway.proxy.pii.ner import detect_names
from gateway.proxy.pii.normalize import normalize
from gateway.proxy.pii.policy import CompiledPolicy
from gateway.proxy.pii.spans import Finding, resolve_overlaps
from gateway.shared.usage_event import Redaction

# A pseudonym token as `token_for` writes it; the stream window never cuts one.
TOKEN = re.compile(r"<[A-Z][A-Z0-9_]*_[0-9a-f]{6}>")
# NER costs tens of milliseconds per KB: past this many characters a request
# is refused rather than held for minutes (validators alone have no such cap).
MAX_NER_CHARS = 256 * 1024

AuditKey = tuple[str, str, str, str]  # entity, action, detector, where
Detector = Callable[[str, frozenset[str]], list[Finding]]


def token_for(secret: bytes, entity: str, value: str) -> str:
    """Return the pseudonym of `value`: stable for one org key, unlinkable across orgs."""
    folded = normalize(value).text
    digest = hmac.new(secret, f"{entity}\0{folded}".encode(), hashlib.sha256).hexdigest()
    return f"<{entity}_{digest[:6]}>"


class Redactor:
    """The policy applied to one request's texts, with its audit counts and restore vault."""

    __slots__ = ("counts", "detect", "max_ner_chars", "memo", "ner_chars", "policy", "vault")

    def __init__(
        self,
        policy: CompiledPolicy,
        max_ner_chars: int = MAX_NER_CHARS,
        detect: Detector = detect,
    ) -> None:
        self.policy = policy
        # The prompt's NER allowance, and the validators' entry point: the
        # proxy keeps the defaults; a test may pass a smaller allowance or a
        # detector that counts its calls.
        self.max_ner_chars = max_ner_chars
        self.detect = detect
        self.counts: dict[AuditKey, int] = {}
        # token -> original, only with restore_in_response; memory only.
        self.vault: dict[str, str] = {}
        self.ner_chars = 0
        # Findings by text, shared with a twin (without_restore) that reads the
        # same texts right after this one; None: nothing remembered.
        self.memo: dict[str, list[Finding]] | None = None

    def without_restore(self) -> Redactor:
        """Return a twin that redacts the same texts the same way but restores nothing.

        A trace keeps the answer before restore_in_response puts originals back
        (CONTRACT.md section 6). The twin is fed what this redactor is fed, just
        after it, and reads this one's findings from the shared memo, so nothing
        is detected twice; its counts are its own, never audited. The caller
        clears the memo between steps.
        """
        twin = Redactor(self.policy, self.max_ner_chars, self.detect)
        self.memo = twin.memo = {}
        return twin

    # --- finding ----------------------------------------------------------

    def findings(self, text: str) -> list[Finding]:
        """Return the acted-on findings in `text`, sorted, non-overlapping, in its offsets."""
        if not text:
            return []
        memo = self.memo
        if memo is None:
            return self._find(text)
        found = memo.get(text)
        if found is None:
            found = memo[text] = self._find(text)
        return found

    def _find(self, text: str) -> list[Finding]:
        policy = self.policy
        try:
            found = self.detect(text, policy.validator_types) if policy.validator_types else []
            extra: list[Finding] = []
            if policy.ner_types:
                extra.extend(detect_names(text, policy.ner_types))
            if policy.patterns:
                extra.extend(self._custom(text))
        except NerUnavailable as e:
            raise PiiUnavailable(
                "The PII policy needs name detection (NER), which is unavailable; nothing was sent."
            ) from e
        except Exception as e:  # any detector failure: fail closed, forward nothing
            raise PiiScanFailed("PII scanning failed; nothing was sent.") from e
        if extra:
            found = resolve_overlaps([*found, *extra])
        acted = policy.acted
        return [f for f in found if f.entity in acted]

    def _custom(self, text: str) -> Iterable[Finding]:
        folded = normalize(text)
        for pattern in self.policy.patterns:
            for match in pattern.regex.finditer(folded.text):
                if match.end() > match.start():
                    start, end = folded.span(match.start(), match.end())
                    yield Finding(pattern.name, start, end, "custom")

    # --- replacing --------------------------------------------------------

    def redact(self, text: str, where: str) -> str:
        """Return `text` with the policy applied (raises PiiBlocked for a blocked prompt)."""
        if not text:
            return text
        if where == "prompt" and self.policy.ner_types:
            self._count_ner_chars(text)
        return self.apply(text, self.findings(text), where)

    def _count_ner_chars(self, text: str) -> None:
        """Hold the prompt to max_ner_chars (MAX_NER_CHARS), before any scanning.

        Only the prompt counts: it can still be refused unsent. An answer
        was already paid for, so it is redacted whatever its length.
        """
        self.ner_chars += len(text)
        if self.ner_chars > self.max_ner_chars:
            raise InvalidRequest(
                f"With names (NER) in the PII policy a request may hold at most"
                f" {self.max_ner_chars} characters of text.",
                code="pii_text_too_large",
            )

    def apply(
        self, text: str, findings: list[Finding], where: str, json_escaped: bool = False
    ) -> str:
        """Replace `findings` in `text`; restore vault tokens in between (answers).

        `json_escaped`: `text` is raw JSON (a streamed tool call's arguments):
        restored originals are escaped, and a finding never eats a quote.
        """
        restore = where == "answer" and bool(self.vault)
        if not findings:
            return self._restore(text, json_escaped) if restore else text
        parts: list[str] = []
        position = 0
        for finding in findings:
            start, end = finding.start, finding.end
            if json_escaped:
                quote = text.find('"', start, end)
                if quote >= 0:
                    end = quote
                if end <= start:
                    continue
            if start < position:
                continue
            between = text[position:start]
            parts.append(self._restore(between, json_escaped) if restore else between)
            parts.append(self._replacement(finding.entity, text[start:end], finding, where))
            position = end
        rest = text[position:]
        parts.append(self._restore(rest, json_escaped) if restore else rest)
        return "".join(parts)

    def _replacement(self, entity: str, value: str, finding: Finding, where: str) -> str:
        action = self.policy.actions.get(entity, "mask")
        key = (entity, action, finding.detector, where)
        self.counts[key] = self.counts.get(key, 0) + 1
        if action == "block":
            if where == "prompt":
                raise PiiBlocked(
                    f"The request contains {entity}, which this organization's PII policy blocks.",
                    param=entity,
                )
            return f"[{entity}]"
        if action == "pseudonymize":
            secret = self.policy.secret
            if secret is None:  # compile_policy marks such a policy broken; belt and braces
                raise PiiScanFailed("The PII policy pseudonymizes but has no key.")
            token = token_for(secret, entity, value)
            if where == "prompt" and self.policy.restore_in_response:
                self.vault[token] = value
            return token
        return f"[{entity}]"

    def _restore(self, text: str, json_escaped: bool) -> str:
        if "<" not in text:
            return text
        vault = self.vault

        def original(match: re.Match[str]) -> str:
            value = vault.get(match.group(0))
            if value is None:
                return match.group(0)
            return orjson.dumps(value).decode()[1:-1] if json_escaped else value

        return TOKEN.sub(original, text)

    # --- the audit --------------------------------------------------------

    def audit(self) -> list[Redaction]:
        """The request's redactions, one entry per (entity, action, detector, where); no values."""
        return [
            {"entity": e, "action": a, "count": n, "detector": d, "where": w}
            for (e, a, d, w), n in self.counts.items()
        ]

    def header(self, where: str | None = None) -> str:
        """`EMAIL:mask:2,PHONE:pseudonymize:1`; answer entries end in `:answer`."""
        totals: dict[tuple[str, str, str], int] = {}
        for (entity, action, _, place), count in self.counts.items():
            if where is not None and place != where:
                continue
            key = (entity, action, place)
            totals[key] = totals.get(key, 0) + count
        return ",".join(
            f"{entity}:{action}:{count}" + (":answer" if place == "answer" else "")
            for (entity, action, place), count in sorted(
                totals.items(), key=lambda item: (item[0][2] != "prompt", item[0][0], item[0][1])
            )
        )
