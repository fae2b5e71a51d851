"""Forms of the PII policy pages; the rules are in gateway.pii_policy.specs and .actions.

One select per entity type and a formset of custom patterns; like the other
forms, these only turn what a browser sends into a PolicySpec, which the
action checks exactly as it does for the API.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms

from gateway.pii_policy.models import Action
from gateway.pii_policy.specs import (
    KNOWN_TYPES,
    MAX_PATTERNS,
    PATTERN_NAME_MAX,
    REGEX_MAX,
    PatternSpec,
    PolicySpec,
)
from gateway.proxy.pii.ner import NER_ENTITIES
from tenants.errors import ActionError

EXTRA_ROWS = 2
NOT_SCANNED = ""
ENTITY_PREFIX = "entity_"
# The common types first, NER's names leading; the rest alphabetically.
_FIRST = ("PERSON", "LOCATION", "ORGANIZATION", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN")
ENTITY_ORDER: list[str] = [t for t in _FIRST if t in KNOWN_TYPES] + sorted(
    KNOWN_TYPES - set(_FIRST)
)
PATTERN_TOKEN = "NAME"  # a custom pattern's own name stands in its masks


def action_choices(entity: str) -> list[tuple[str, str]]:
    """The actions, each showing what this entity type's values become (gateway.proxy.pii)."""
    return [
        (Action.MASK, f"Mask ([{entity}])"),
        (Action.PSEUDONYMIZE, f"Pseudonymize (<{entity}_3f2a9c>)"),
        (Action.BLOCK, "Block the request (400)"),
        (Action.ALLOW, "Allow (count only)"),
    ]


def entity_field_name(entity: str) -> str:
    return f"{ENTITY_PREFIX}{entity}"


class PiiPolicyForm(forms.Form):
    enabled = forms.BooleanField(
        label="Scan prompts and answers",
        required=False,
        help_text="Unticked, the proxy forwards everything as it is, whatever is set below.",
    )
    restore_in_response = forms.BooleanField(
        label="Restore originals in answers",
        required=False,
        help_text="Masked and pseudonymized values are put back into the answer for the"
        " caller; the originals are held in memory for the request only.",
    )

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for entity in ENTITY_ORDER:
            self.fields[entity_field_name(entity)] = forms.ChoiceField(
                label=entity,
                choices=[(NOT_SCANNED, "Not scanned"), *action_choices(entity)],
                required=False,
                help_text="Found by NER (spaCy): costs tens of ms per KB."
                if entity in NER_ENTITIES
                else "",
            )
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @staticmethod
    def initial_for(spec: PolicySpec) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "enabled": spec.enabled,
            "restore_in_response": spec.restore_in_response,
        }
        for entity, action in spec.entities.items():
            initial[entity_field_name(entity)] = action
        return initial

    def entity_rows(self) -> list[tuple[str, forms.BoundField]]:
        """(type, its select), NER types first, for the template's table."""
        return [(entity, self[entity_field_name(entity)]) for entity in ENTITY_ORDER]

    def entities(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            entity: data[entity_field_name(entity)]
            for entity in ENTITY_ORDER
            if data.get(entity_field_name(entity))
        }


class PatternForm(forms.Form):
    name = forms.CharField(
        max_length=PATTERN_NAME_MAX,
        strip=True,
        widget=forms.TextInput(attrs={"class": "mono", "placeholder": "EMPLOYEE_ID"}),
        help_text="UPPER_SNAKE_CASE; its masks read [EMPLOYEE_ID] (NAME in the actions below).",
    )
    regex = forms.CharField(
        label="Regex (RE2)",
        max_length=REGEX_MAX,
        strip=False,
        widget=forms.TextInput(attrs={"class": "mono", "placeholder": r"EMP-[0-9]{6}"}),
        help_text="No backreferences or lookaround.",
    )
    # The initial value, so an untouched blank row reads as unchanged and is skipped.
    action = forms.ChoiceField(choices=action_choices(PATTERN_TOKEN), initial=Action.MASK)

    def spec(self) -> PatternSpec:
        data = self.cleaned_data
        return PatternSpec(name=data["name"], regex=data["regex"], action=data["action"])


class BasePatternFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = "Remove"

    def rows_in_use(self) -> list[PatternForm]:
        """The filled-in rows not marked for removal, in page order.

        An untouched blank row is left uncleaned (its cleaned_data is empty);
        a saved row that was not edited is cleaned and kept.
        """
        return [
            cast(PatternForm, row)
            for row in self.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]


PatternFormSet = cast(
    type[BasePatternFormSet],
    forms.formset_factory(
        PatternForm,
        formset=BasePatternFormSet,
        extra=EXTRA_ROWS,
        can_delete=True,
        max_num=MAX_PATTERNS,
        validate_max=True,
        absolute_max=MAX_PATTERNS + EXTRA_ROWS,
    ),
)


def initial_rows(spec: PolicySpec) -> list[dict[str, str]]:
    return [{"name": p.name, "regex": p.regex, "action": p.action} for p in spec.custom_patterns]


def policy_spec(form: PiiPolicyForm, rows: list[PatternForm]) -> PolicySpec:
    return PolicySpec(
        enabled=form.cleaned_data["enabled"],
        entities=form.entities(),
        custom_patterns=[row.spec() for row in rows],
        restore_in_response=form.cleaned_data["restore_in_response"],
    )


def show_action_error(error: ActionError, form: PiiPolicyForm, rows: list[PatternForm]) -> None:
    """Put the action's error beside the field it names (entities.X, custom_patterns.i.f)."""
    param = error.field or ""
    if param.startswith("entities."):
        name = entity_field_name(param.removeprefix("entities."))
        form.add_error(name if name in form.fields else None, error.message)
        return
    parts = param.split(".")
    if len(parts) == 3 and parts[0] == "custom_patterns" and parts[1].isdigit():
        row = rows[int(parts[1])]
        row.add_error(parts[2] if parts[2] in row.fields else None, error.message)
        return
    form.add_error(None, error.message)
