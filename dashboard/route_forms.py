"""Forms of the routes and provider-keys pages; gateway.specs and gateway.actions have the rules.

These forms only turn what a browser sends into a RouteSpec: each field has
a type and a bound, and the action checks the whole (addresses, keys, Azure)
exactly as it does for the API.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from dashboard.forms import NameField, OrgChoiceField
from gateway import models as m
from gateway.models import ProviderKey, Strategy
from gateway.shared.providers_catalog import PROVIDER_CHOICES
from gateway.specs import DeploymentSpec, PriceSpec, RouteSpec, parse_price

EXTRA_ROWS = 3


def _number(placeholder: str = "", mode: str = "numeric") -> forms.TextInput:
    # Text inputs, styled like every other field; the form field does the parsing.
    return forms.TextInput(attrs={"inputmode": mode, "placeholder": placeholder})


class PriceField(forms.CharField):
    """USD per million tokens, a decimal string as the API takes it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=20, required=False, widget=_number("e.g. 2.50", "decimal"), **kwargs
        )

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_price(text)
        except ValueError as e:
            raise ValidationError(str(e), code="invalid_price") from e


class RouteForm(forms.Form):
    model = forms.CharField(
        label="Model alias",
        max_length=m.ALIAS_MAX_LENGTH,
        help_text="What applications send as `model`, e.g. gpt-4o or smart. Case-sensitive.",
        widget=forms.TextInput(attrs={"autofocus": True, "class": "mono"}),
    )
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.PRIORITY)
    min_quality = forms.IntegerField(
        label="Minimum quality",
        required=False,
        min_value=m.QUALITY_MIN,
        max_value=m.QUALITY_MAX,
        widget=_number("0 to 100"),
        help_text="Skip deployments rated below this.",
    )
    max_attempts = forms.IntegerField(
        label="Attempts at most",
        required=False,
        min_value=m.MAX_ATTEMPTS_MIN,
        max_value=m.MAX_ATTEMPTS_MAX,
        widget=_number(f"{m.MAX_ATTEMPTS_MIN} to {m.MAX_ATTEMPTS_MAX}"),
        help_text="Failover stops after this many attempts. Blank: each deployment once.",
    )
    deadline_s = forms.FloatField(
        label="Deadline (s)",
        required=False,
        min_value=m.DEADLINE_MIN_S,
        max_value=m.DEADLINE_MAX_S,
        widget=_number("No deadline", "decimal"),
        help_text="No new attempt starts this many seconds after the request arrived.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the alias names the route; to rename, create another
            del self.fields["model"]


class DeploymentForm(forms.Form):
    provider = forms.ChoiceField(choices=[("", "Choose a provider…"), *PROVIDER_CHOICES])
    model = forms.CharField(
        label="Provider model", max_length=200, widget=forms.TextInput(attrs={"class": "mono"})
    )
    provider_key = OrgChoiceField(
        queryset=ProviderKey.objects.none(),
        required=False,
        label="Key",
        empty_label="Platform key",
    )
    api_base = forms.CharField(
        label="API base",
        max_length=m.API_BASE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "Provider default"}),
    )
    api_version = forms.CharField(
        label="API version", max_length=40, required=False, help_text="Azure only."
    )
    weight = forms.IntegerField(
        min_value=m.WEIGHT_MIN, max_value=m.WEIGHT_MAX, initial=1, widget=_number()
    )
    quality = forms.IntegerField(
        min_value=m.QUALITY_MIN,
        max_value=m.QUALITY_MAX,
        required=False,
        widget=_number("0 to 100"),
    )
    price_input = PriceField(label="Input price / 1M tokens")
    price_output = PriceField(label="Output price / 1M tokens")
    timeout_s = forms.FloatField(
        label="Timeout (s)",
        min_value=m.TIMEOUT_MIN_S,
        max_value=m.TIMEOUT_MAX_S,
        initial=600.0,
        widget=_number(mode="decimal"),
    )
    connect_timeout_s = forms.FloatField(
        label="Connect timeout (s)",
        min_value=m.CONNECT_TIMEOUT_MIN_S,
        max_value=m.CONNECT_TIMEOUT_MAX_S,
        initial=10.0,
        widget=_number(mode="decimal"),
    )
    health_check = forms.BooleanField(
        label="Health pings",
        required=False,
        help_text="Ping it every half minute or so; each ping costs a token or so.",
    )

    def __init__(self, *args: Any, keys: QuerySet[ProviderKey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["provider_key"]
        field.queryset = keys  # type: ignore[attr-defined]
        field.label_from_instance = str  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        given = [self.cleaned_data.get(f) is not None for f in ("price_input", "price_output")]
        if any(given) and not all(given):
            self.add_error(None, "Give both prices, or neither to use the shipped price list.")
        return cleaned

    def spec(self) -> DeploymentSpec:
        data = self.cleaned_data
        key: ProviderKey | None = data.get("provider_key")
        price_in, price_out = data.get("price_input"), data.get("price_output")
        # Both or neither, as clean() made sure; "0" is a price (a free model), not "none".
        price = None if price_in is None or price_out is None else PriceSpec(price_in, price_out)
        return DeploymentSpec(
            provider=data["provider"],
            model=data["model"],
            api_base=data.get("api_base") or None,
            api_version=data.get("api_version") or None,
            provider_key_id=key.id if key else None,
            weight=data["weight"],
            quality=data.get("quality"),
            price=price,
            timeout_s=data["timeout_s"],
            connect_timeout_s=data["connect_timeout_s"],
            health_check=bool(data.get("health_check")),
        )


class BaseDeploymentFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, keys: QuerySet[ProviderKey], **kwargs: Any) -> None:
        self.keys = keys
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"keys": self.keys}

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        order = form.fields["ORDER"]
        order.label = "Position"
        order.help_text = "1 is tried first."
        order.widget = _number()
        form.fields["DELETE"].label = "Remove"

    def rows_in_use(self) -> list[DeploymentForm]:
        """The filled-in rows not marked for removal, in the order the user gave."""
        return list(self.ordered_forms)


# formset_factory returns a class made at runtime; it is a BaseDeploymentFormSet.
DeploymentFormSet = cast(
    type[BaseDeploymentFormSet],
    forms.formset_factory(
        DeploymentForm,
        formset=BaseDeploymentFormSet,
        extra=EXTRA_ROWS,
        can_order=True,
        can_delete=True,
        max_num=m.MAX_DEPLOYMENTS,
        validate_max=True,
        absolute_max=m.MAX_DEPLOYMENTS + EXTRA_ROWS,
    ),
)


def route_spec(form: RouteForm, rows: list[DeploymentForm]) -> RouteSpec:
    return RouteSpec(
        strategy=form.cleaned_data["strategy"],
        min_quality=form.cleaned_data.get("min_quality"),
        max_attempts=form.cleaned_data.get("max_attempts"),
        deadline_s=form.cleaned_data.get("deadline_s"),
        deployments=[row.spec() for row in rows],
    )


class ProviderKeyForm(forms.Form):
    provider = forms.ChoiceField(choices=PROVIDER_CHOICES, widget=forms.Select)
    name = NameField(required=False, help_text="To tell keys apart, e.g. “production”.")
    # Never rendered back, not even after a validation error.
    api_key = forms.CharField(
        label="API key",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; after saving, only its last four characters are shown.",
    )
