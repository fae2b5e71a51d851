"""JSON shapes of the PII policy (CONTRACT.md section 4); unknown fields are refused."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from pii_policy.specs import (
    ACTIONS,
    KNOWN_TYPES,
    MAX_PATTERNS,
    PATTERN_NAME_MAX,
    REGEX_MAX,
    PatternSpec,
    PolicySpec,
)
from tenants.api.serializers import StrictSerializer

_ENTITIES_HELP = (
    "Entity type -> action; a type not named is not scanned for. Naming PERSON, LOCATION or"
    f" ORGANIZATION turns NER on. Types: {', '.join(sorted(KNOWN_TYPES))}."
)


class PatternSerializer(StrictSerializer):
    """A tenant's own pattern, run with RE2 (no backreferences, no lookaround)."""

    name = serializers.CharField(
        max_length=PATTERN_NAME_MAX,
        trim_whitespace=False,
        help_text="UPPER_SNAKE_CASE, not a built-in type; shows in masks: [EMPLOYEE_ID].",
    )
    regex = serializers.CharField(
        max_length=REGEX_MAX, trim_whitespace=False, help_text="RE2 syntax."
    )
    action = serializers.ChoiceField(choices=ACTIONS)


class PiiPolicyInSerializer(StrictSerializer):
    """PUT: the whole policy; what is left out takes its default (off, empty, false)."""

    enabled = serializers.BooleanField()
    entities = serializers.DictField(
        child=serializers.ChoiceField(choices=ACTIONS),
        required=False,
        default=dict,
        help_text=_ENTITIES_HELP,
    )
    custom_patterns = serializers.ListField(
        child=PatternSerializer(),
        required=False,
        default=list,
        max_length=MAX_PATTERNS,
    )
    restore_in_response = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Put the originals of masked and pseudonymized values back into the answer"
        " for the caller (kept in memory for the request only).",
    )

    def spec(self) -> PolicySpec:
        data = self.validated_data
        return PolicySpec(
            enabled=data["enabled"],
            entities=dict(data["entities"]),
            custom_patterns=[
                PatternSpec(p["name"], p["regex"], p["action"]) for p in data["custom_patterns"]
            ],
            restore_in_response=data["restore_in_response"],
        )


class PiiPolicySerializer(serializers.Serializer[Any]):
    """The policy as it applies; an org without one reads as the disabled default."""

    enabled = serializers.BooleanField()
    entities = serializers.DictField(
        child=serializers.ChoiceField(choices=ACTIONS), help_text=_ENTITIES_HELP
    )
    custom_patterns = PatternSerializer(many=True)
    restore_in_response = serializers.BooleanField()
