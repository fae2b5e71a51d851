"""Forms of the budgets pages and of rate limits; the rules are in gateway.budgets.specs, .actions.

Like the route forms, these only turn what a browser sends into specs; the
action checks them exactly as it does for the API.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from dashboard.forms import rpm_field, tpm_field
from dashboard.route_forms import PriceField
from gateway.budgets.models import OnExhausted, Period, Scope
from gateway.budgets.specs import (
    BudgetSettingsSpec,
    BudgetSpec,
    parse_limit,
    timezone_names,
)
from gateway.specs import PriceSpec
from tenants.models import MAX_OUTPUT_TOKENS_MAX, ApiKey, Organization, Project, Team, User
from tenants.rate_limits import RateLimits

# Option groups of the object picker, one per scope, in the scope picker's order.
GROUP_LABELS: dict[str, str] = {
    Scope.ORG: "Organization",
    Scope.TEAM: "Teams",
    Scope.PROJECT: "Projects",
    Scope.USER: "Members",
    Scope.KEY: "API keys",
}


def _number(placeholder: str = "", mode: str = "numeric") -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": mode, "placeholder": placeholder})


def scope_objects(org: Organization) -> dict[str, list[tuple[str, str]]]:
    """What a budget can be set on, by scope: (id, name) of the org's objects."""
    teams = Team.objects.filter(org=org).order_by("name")
    projects = Project.objects.filter(org=org).order_by("name")
    users = User.objects.filter(memberships__org=org).order_by("email")
    keys = ApiKey.objects.filter(org=org, revoked_at=None).order_by("name", "prefix")
    return {
        Scope.ORG: [(str(org.id), org.name)],
        Scope.TEAM: [(str(t.id), t.name) for t in teams],
        Scope.PROJECT: [(str(p.id), p.name) for p in projects],
        Scope.USER: [(str(u.id), u.email) for u in users],
        Scope.KEY: [(str(k.id), str(k)) for k in keys],
    }


class LimitField(forms.CharField):
    """A limit in USD, a decimal string as the API takes it; cleaned into nano-USD."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, widget=_number("e.g. 50.00", "decimal"), **kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        try:
            return parse_limit(text)
        except ValueError as e:
            raise ValidationError(str(e), code="invalid_amount") from e


class OfferedChoiceField(forms.ChoiceField):
    """A choice among one org's objects; an id it never offered answers 404, like the URLs."""

    def validate(self, value: Any) -> None:
        # Typed by hand: another org's objects must read exactly like missing ones
        # (dashboard.forms.OrgChoiceField does the same for querysets).
        if value and not self.valid_value(value):
            raise Http404
        super().validate(value)


class BudgetForm(forms.Form):
    scope = forms.ChoiceField(label="Applies to", choices=Scope.choices)
    scope_id = OfferedChoiceField(label="Which one", help_text="One of the kind chosen above.")
    limit_usd = LimitField(label="Limit (USD)", help_text="At most six decimal places.")
    period = forms.ChoiceField(choices=Period.choices, initial=Period.MONTH)
    on_exhausted = forms.ChoiceField(
        label="When it runs out", choices=OnExhausted.choices, initial=OnExhausted.BLOCK
    )

    def __init__(self, org: Organization, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objects = scope_objects(org)
        # budget_new.html draws the select: one <optgroup data-scope> per scope, of
        # which app.js shows the chosen scope's; without JS all groups show.
        self.groups = [
            (scope, GROUP_LABELS[scope], rows) for scope, rows in self.objects.items() if rows
        ]
        field = self.fields["scope_id"]
        field.choices = [(label, rows) for _, label, rows in self.groups]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        scope, chosen = self.cleaned_data.get("scope"), self.cleaned_data.get("scope_id")
        if scope and chosen and chosen not in {v for v, _ in self.objects.get(scope, [])}:
            kind = GROUP_LABELS.get(scope, scope).lower().removesuffix("s")
            self.add_error("scope_id", f"Pick one of the {kind}s for a {kind} budget.")
        return cleaned

    def spec(self) -> BudgetSpec:
        data = self.cleaned_data
        return BudgetSpec(
            scope=data["scope"],
            scope_id=uuid.UUID(data["scope_id"]),
            limit_nano=data["limit_usd"],
            period=data["period"],
            on_exhausted=data["on_exhausted"],
        )


class BudgetSettingsForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone", help_text="Daily and monthly budgets start again at midnight here."
    )
    price_input = PriceField(label="Default input price / 1M tokens")
    price_output = PriceField(label="Default output price / 1M tokens")
    default_max_output_tokens = forms.IntegerField(
        label="Default max output tokens",
        min_value=1,
        max_value=MAX_OUTPUT_TOKENS_MAX,
        required=False,
        widget=_number("The model's maximum"),
        help_text="Reserved against budgets when a request does not say how many it wants.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = sorted(timezone_names())
        self.fields["timezone"].choices = [(n, n.replace("_", " ")) for n in names]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(org: Organization) -> dict[str, Any]:
        return {
            "timezone": org.timezone,
            "price_input": org.default_price_input_per_mtok,
            "price_output": org.default_price_output_per_mtok,
            "default_max_output_tokens": org.default_max_output_tokens,
        }

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        given = [self.cleaned_data.get(f) is not None for f in ("price_input", "price_output")]
        if any(given) and not all(given):
            self.add_error(None, "Give both default prices, or neither.")
        return cleaned

    def spec(self) -> BudgetSettingsSpec:
        data = self.cleaned_data
        price_in, price_out = data.get("price_input"), data.get("price_output")
        # "0" is a price (a free model), not "none".
        price = None if price_in is None or price_out is None else PriceSpec(price_in, price_out)
        return BudgetSettingsSpec(
            timezone=data["timezone"],
            default_price=price,
            default_max_output_tokens=data.get("default_max_output_tokens"),
        )


def limits_of(form: forms.Form) -> RateLimits:
    """The limits a valid form holds; an empty field is no limit."""
    return RateLimits(
        rpm_limit=form.cleaned_data.get("rpm_limit"), tpm_limit=form.cleaned_data.get("tpm_limit")
    )


class RateLimitsForm(forms.Form):
    rpm_limit = rpm_field()
    tpm_limit = tpm_field()
