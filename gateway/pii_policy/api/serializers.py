"""JSON shapes of the PII policy (CONTRACT.md section 4); unknown fields are refused."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gateway.pii_policy.specs import (
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


@extend_schema_field(
    {
        "type": "string",
        "maxLength": PATTERN_NAME_MAX,
        "pattern": r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$",
        "not": {"enum": sorted(KNOWN_TYPES)},
        "description": "UPPER_SNAKE_CASE, not a built-in type; shows in masks: [EMPLOYEE_ID].",
    }
)
class PatternNameField(serializers.CharField):
    """A custom pattern's name (check_policy says which names it takes)."""


@extend_schema_field(
    {
        "type": "object",
        "properties": {t: {"type": "string", "enum": list(ACTIONS)} for t in sorted(KNOWN_TYPES)},
        "additionalProperties": False,
        "description": _ENTITIES_HELP,
    }
)
class EntitiesField(serializers.DictField):
    """Entity type -> action; only the known types (check_policy refuses the rest)."""


@extend_schema_field(
    {
        "type": "string",
        "format": "regex",
        "minLength": 1,
        "maxLength": REGEX_MAX,
        "description": "RE2 syntax (no backreferences, no lookaround); must not match empty text.",
    }
)
class RegexField(serializers.CharField):
    """A custom pattern's regex; whether RE2 takes it is check_policy's to say."""


class PatternSerializer(StrictSerializer):
    """A tenant's own pattern, run with RE2 (no backreferences, no lookaround)."""

    name = PatternNameField(max_length=PATTERN_NAME_MAX, trim_whitespace=False)
    regex = RegexField(max_length=REGEX_MAX, trim_whitespace=False)
    action = serializers.ChoiceField(choices=ACTIONS)


class PiiPolicyInSerializer(StrictSerializer):
    """PUT: the whole policy; what is left out takes its default (off, empty, false)."""

    enabled = serializers.BooleanField()
    entities = EntitiesField(
        child=serializers.ChoiceField(choices=ACTIONS), required=False, default=dict
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
