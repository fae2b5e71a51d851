"""What a PII policy should be, and the checks every door (API, dashboard) shares.

The API's serializer and the dashboard's form turn input into a PolicySpec;
gateway.pii_policy.actions checks it here again before anything is written. A
refused policy names the field at fault in the documented error shape
(`entities.FOO`, `custom_patterns.2.regex`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from gateway.pii_policy.models import Action, PiiPolicy
from gateway.proxy.pii import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES
from gateway.shared.snapshot import PiiPatternEntry, PiiPolicyEntry
from tenants.errors import Invalid

# Every type the proxy knows: validator detectors and NER.
KNOWN_TYPES: frozenset[str] = ENTITY_TYPES | NER_ENTITIES
ACTIONS: tuple[str, ...] = tuple(Action.values)
MAX_PATTERNS = 50
PATTERN_NAME_MAX = 40
REGEX_MAX = 1000
_PATTERN_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


@dataclass(frozen=True)
class PatternSpec:
    name: str
    regex: str
    action: str


@dataclass(frozen=True)
class PolicySpec:
    enabled: bool = False
    entities: dict[str, str] = field(default_factory=dict)
    custom_patterns: list[PatternSpec] = field(default_factory=list)
    restore_in_response: bool = False

    @classmethod
    def of(cls, policy: PiiPolicy | None) -> PolicySpec:
        """The stored policy as a spec; the disabled default when there is none."""
        if policy is None:
            return cls()
        patterns = [PatternSpec(p["name"], p["regex"], p["action"]) for p in policy.custom_patterns]
        return cls(
            enabled=policy.enabled,
            entities=dict(policy.entities),
            custom_patterns=patterns,
            restore_in_response=policy.restore_in_response,
        )

    def entry(self) -> PiiPolicyEntry:
        """The JSON shape of the API, the database and the snapshot (they are one)."""
        patterns: list[PiiPatternEntry] = [
            {"name": p.name, "regex": p.regex, "action": p.action} for p in self.custom_patterns
        ]
        return {
            "enabled": self.enabled,
            # Sorted, so the stored and published JSON does not depend on input order.
            "entities": dict(sorted(self.entities.items())),
            "custom_patterns": patterns,
            "restore_in_response": self.restore_in_response,
        }


def _re2_options() -> Any:
    options = re2.Options()
    # Report a bad pattern as an error to the user, not as a line on stderr.
    options.log_errors = False
    return options


def compile_pattern(regex: str) -> Any:
    """Compile a tenant regex with RE2 alone: no fallback to Python's `re`.

    RE2 refuses what it cannot run in linear time (backreferences,
    lookaround, possessive quantifiers) and patterns whose program exceeds
    its memory bound; either raises re2.error, as does a syntax error.
    """
    return re2.compile(regex, _re2_options())


def _check_action(action: object, param: str) -> None:
    if action not in ACTIONS:
        raise Invalid(param, f"Must be one of {', '.join(ACTIONS)}.")


def _check_pattern(index: int, pattern: PatternSpec, seen: set[str]) -> None:
    param = f"custom_patterns.{index}"
    name = pattern.name
    if not name or len(name) > PATTERN_NAME_MAX or not _PATTERN_NAME.fullmatch(name):
        raise Invalid(
            f"{param}.name",
            f"A pattern name is UPPER_SNAKE_CASE (A-Z, 0-9, _), at most {PATTERN_NAME_MAX}"
            " characters, e.g. EMPLOYEE_ID.",
        )
    if name in KNOWN_TYPES:
        raise Invalid(f"{param}.name", f"{name} is a built-in entity type; pick another name.")
    if name in seen:
        raise Invalid(f"{param}.name", f"Two patterns are named {name}.")
    seen.add(name)
    if not pattern.regex:
        raise Invalid(f"{param}.regex", "A pattern needs a regex.")
    if len(pattern.regex) > REGEX_MAX:
        raise Invalid(f"{param}.regex", f"A regex is at most {REGEX_MAX} characters.")
    try:
        compiled = compile_pattern(pattern.regex)
    except re2.error as e:
        reason = (
            e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else e
        )
        raise Invalid(
            f"{param}.regex",
            f"RE2 cannot run this regex ({reason}); backreferences and lookaround are not"
            " supported.",
        ) from e
    # A pattern that matches nothing at all would "find" an empty entity everywhere.
    if compiled.fullmatch("") is not None:
        raise Invalid(f"{param}.regex", "This regex matches empty text; it must match something.")
    _check_action(pattern.action, f"{param}.action")


def check_policy(spec: PolicySpec) -> None:
    """Refuse unknown types and actions and bad custom patterns, naming the field at fault."""
    for entity, action in spec.entities.items():
        if entity not in KNOWN_TYPES:
            raise Invalid(
                f"entities.{entity}",
                f"Unknown entity type {entity!r}; known: {', '.join(sorted(KNOWN_TYPES))}.",
            )
        _check_action(action, f"entities.{entity}")
    if len(spec.custom_patterns) > MAX_PATTERNS:
        raise Invalid("custom_patterns", f"At most {MAX_PATTERNS} custom patterns.")
    seen: set[str] = set()
    for index, pattern in enumerate(spec.custom_patterns):
        _check_pattern(index, pattern, seen)
