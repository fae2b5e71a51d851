"""The effective PII policy of a request, compiled once per snapshot version.

A project's own policy replaces the org's whole (snapshot.ProjectEntry.pii);
a policy that is absent or disabled means no scanning at all. Compiling
turns the policy's JSON into what the redactor needs: the validator types
to detect, the NER types, the tenant's RE2 patterns and the org's opened
pseudonymization key. It is cached by (org, snapshot version, project), so
the hot path costs one dict lookup; a new snapshot version is a new entry.

Fail closed: a custom pattern that does not compile (web validated it when
saved; a newer RE2 could still refuse it), or a pseudonymize action without a
key that opens, makes every request of that policy fail with 500
`pii_scan_failed` rather than go out unscanned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from gateway.proxy.errors import PiiScanFailed
from gateway.proxy.pii.detectors import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES
from gateway.shared.crypto import CryptoError, MasterKeys, pii_secret_context
from gateway.shared.snapshot import KeyEntry, PiiPolicyEntry, Snapshot

ACTIONS = frozenset({"mask", "pseudonymize", "block", "allow"})
# Bound on cached compiled policies; a full cache is simply cleared (a
# recompile costs well under a millisecond without custom patterns).
MAX_CACHED = 10_000


@dataclass(frozen=True)
class CustomPattern:
    name: str
    regex: Any  # a compiled re2 pattern
    action: str


@dataclass(frozen=True)
class CompiledPolicy:
    """What the redactor applies: an action per entity type, and how to find each type."""

    actions: dict[str, str]  # entity type or custom pattern name -> action
    # Validator types to detect: the acted-on ones, plus allowed ones (an
    # allowed email must still win its overlap against, say, a PERSON guess).
    validator_types: frozenset[str]
    ner_types: frozenset[str]
    patterns: tuple[CustomPattern, ...]
    restore_in_response: bool
    secret: bytes | None  # the org's pseudonymization key, None if no action needs it
    # Set when the policy cannot be applied: every request under it fails closed.
    broken: str | None = None
    acted: frozenset[str] = field(default=frozenset())  # types with an action other than allow

    def check(self) -> None:
        if self.broken is not None:
            raise PiiScanFailed(self.broken)


def effective_entry(tenant: Snapshot, key: KeyEntry | None) -> PiiPolicyEntry | None:
    """The project's policy if it has one, else the org's; None when nothing is to be scanned."""
    entry: PiiPolicyEntry | None = None
    if key is not None:
        project = tenant["projects"].get(key["project_id"])
        if project is not None:
            entry = project.get("pii")
    if entry is None:
        entry = tenant.get("pii")
    if entry is None or not entry.get("enabled"):
        return None
    return entry


def compile_policy(
    entry: PiiPolicyEntry, org_id: str, sealed_secret: str | None, master: MasterKeys | None
) -> CompiledPolicy | None:
    """Compile one policy; None when it acts on nothing (every type allowed or none named)."""
    actions: dict[str, str] = {}
    broken: str | None = None
    for entity, action in entry.get("entities", {}).items():
        if action not in ACTIONS:
            broken = f"The PII policy names an unknown action {action!r}."
        actions[entity] = action
    patterns: list[CustomPattern] = []
    for pattern in entry.get("custom_patterns") or []:
        action = pattern.get("action", "")
        if action not in ACTIONS:
            broken = f"The PII policy names an unknown action {action!r}."
        if action == "allow":
            continue
        try:
            options = re2.Options()
            options.log_errors = False
            compiled = re2.compile(pattern["regex"], options)
        except (re2.error, KeyError, TypeError):
            broken = f"The PII policy's custom pattern {pattern.get('name')!r} does not compile."
            continue
        patterns.append(CustomPattern(pattern["name"], compiled, action))
        actions[pattern["name"]] = action
    acted = frozenset(name for name, action in actions.items() if action != "allow")
    if not acted and broken is None:
        return None
    validator_types = frozenset(actions) & ENTITY_TYPES
    if not (acted & ENTITY_TYPES):
        validator_types = frozenset()  # only allowed validator types: nothing to protect
    ner_types = acted & NER_ENTITIES
    secret: bytes | None = None
    if "pseudonymize" in actions.values() and broken is None:
        secret, broken = _open_secret(org_id, sealed_secret, master)
    return CompiledPolicy(
        actions=actions,
        validator_types=validator_types,
        ner_types=ner_types,
        patterns=tuple(patterns),
        restore_in_response=bool(entry.get("restore_in_response")),
        secret=secret,
        broken=broken,
        acted=acted,
    )


def _open_secret(
    org_id: str, sealed: str | None, master: MasterKeys | None
) -> tuple[bytes | None, str | None]:
    if not sealed:
        return None, "The PII policy pseudonymizes, but the org has no pseudonymization key."
    if master is None:
        return None, "The proxy has no master keys to open the pseudonymization key."
    try:
        return master.open(sealed, pii_secret_context(org_id)), None
    except CryptoError:
        return None, "The org's pseudonymization key cannot be opened."


class PolicyCache:
    """Compiled policies by (org, snapshot version, project); the proxy keeps one."""

    def __init__(self, master: MasterKeys | None) -> None:
        self._master = master
        self._compiled: dict[tuple[str, int, str], CompiledPolicy | None] = {}

    @classmethod
    def from_settings(cls, master_keys: str) -> PolicyCache:
        """SELIXES_MASTER_KEYS ("" = none): opens each org's pseudonymization secret."""
        return cls(MasterKeys.parse(master_keys) if master_keys else None)

    def policy_for(self, tenant: Snapshot, key: KeyEntry | None) -> CompiledPolicy | None:
        """Return the request's compiled policy, or None: nothing to scan."""
        # By project only where the project has a policy of its own: the org's
        # is compiled once per snapshot version, not once per project.
        project = tenant["projects"].get(key["project_id"]) if key is not None else None
        own = key["project_id"] if key is not None and project and project.get("pii") else ""
        cache_key = (tenant["org_id"], tenant["version"], own)
        try:
            return self._compiled[cache_key]
        except KeyError:
            pass
        entry = effective_entry(tenant, key)
        compiled = (
            None
            if entry is None
            else compile_policy(entry, tenant["org_id"], tenant.get("pii_secret"), self._master)
        )
        if len(self._compiled) >= MAX_CACHED:
            self._compiled.clear()
        self._compiled[cache_key] = compiled
        return compiled
