"""Forms of the routes and provider-keys pages; gateway.specs and gateway.actions have the rules.

These forms only turn what a browser sends into a RouteSpec: each field has
a type and a bound, and the action checks the whole (addresses, keys, Azure)
exactly as it does for the API.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from dashboard.forms import NameField
from gateway import models as m
from gateway.models import ProviderKey, Strategy
from gateway.shared.managed_access import KEYLESS_PROVIDERS
from gateway.shared.providers_catalog import PROVIDER_CHOICES, PROVIDER_LABELS
from gateway.specs import DeploymentSpec, PriceSpec, RouteSpec, parse_price

EXTRA_ROWS = 3
# The key select's choices besides the org's own keys (their ids).
AUTOMATIC = ""  # the org's own key for the provider, else the platform's, else none
PLATFORM = "platform"
NO_KEY = "none"  # self-hosted servers that run without a key


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


class KeySelect(forms.Select):
    """A select whose options say which providers each serves (data-providers), for app.js."""

    def __init__(self) -> None:
        super().__init__(attrs={"data-provider-keys": ""})
        self.providers: dict[str, str] = {}

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        served = self.providers.get(str(option["value"]))
        if served is not None:
            option["attrs"]["data-providers"] = served
        return option


class ProviderKeyField(forms.ChoiceField):
    """The key a deployment is sent with: automatic, the platform's, none, or one of the org's.

    Only what exists is offered: the platform's key where the platform has one
    (settings.PLATFORM_KEY_PROVIDERS), and the org's active keys. Another
    org's key id answers 404, as it does in URLs.
    """

    widget: KeySelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=(), required=False, widget=KeySelect(), **kwargs)

    def offer(self, keys: Collection[ProviderKey], platform: Collection[str]) -> None:
        labels = ", ".join(PROVIDER_LABELS[p] for p in sorted(platform))
        choices: list[tuple[str, str]] = [(AUTOMATIC, "Your key for the provider, if you have one")]
        if platform:
            choices.append((PLATFORM, f"Platform key ({labels})"))
        choices.append((NO_KEY, "No key (self-hosted servers)"))
        choices += [(str(key.id), str(key)) for key in keys]
        self.choices = choices
        self.widget.providers = {
            PLATFORM: " ".join(sorted(platform)),
            NO_KEY: " ".join(sorted(KEYLESS_PROVIDERS)),
            **{str(key.id): key.provider for key in keys},
        }

    def validate(self, value: Any) -> None:
        if not self.valid_value(value):
            raise Http404  # typed by hand: another org's key reads like no key at all


def resolve_key(
    provider: str, choice: str, keys: Collection[ProviderKey], platform: Collection[str]
) -> ProviderKey | None:
    """The key a row's choice stands for; ValidationError when it would be a key that is not there.

    Automatic is the org's own key for the provider (the first by name) when it
    has one, else the platform's when the platform has one, else no key for a
    self-hosted server. A hosted provider with neither is refused here: saved,
    its every request would fail with no_provider_key.
    """
    label = PROVIDER_LABELS.get(provider, provider)
    own = [key for key in keys if key.provider == provider]
    if choice == AUTOMATIC:
        if own:
            return own[0]
        if provider in KEYLESS_PROVIDERS or provider in platform:
            return None
        raise ValidationError(
            f"The platform has no {label} key, and you have none: add your {label} key"
            " on the Provider keys page, then choose it here.",
            code="no_provider_key",
        )
    if choice == PLATFORM:
        if provider in KEYLESS_PROVIDERS:
            raise ValidationError(
                f"A {label} server gets no platform key: choose No key, or one of your keys.",
                code="no_platform_key",
            )
        if provider not in platform:
            raise ValidationError(
                f"The platform has no {label} key: choose one of your own.",
                code="no_platform_key",
            )
        return None
    if choice == NO_KEY:
        if provider not in KEYLESS_PROVIDERS:
            raise ValidationError(f"{label} needs a key.", code="key_required")
        return None
    return next(key for key in keys if str(key.id) == choice)


class DeploymentForm(forms.Form):
    provider = forms.ChoiceField(choices=[("", "Choose a provider…"), *PROVIDER_CHOICES])
    model = forms.CharField(
        label="Provider model", max_length=200, widget=forms.TextInput(attrs={"class": "mono"})
    )
    provider_key = ProviderKeyField(label="Key")
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

    def __init__(self, *args: Any, keys: list[ProviderKey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys
        self.platform: frozenset[str] = settings.PLATFORM_KEY_PROVIDERS
        saved = (
            self.initial.get("provider") if self.initial.get("provider_key") == PLATFORM else None
        )
        if saved:
            # A deployment saved on the platform's key keeps it when saved again,
            # even where web is not told of that key (a proxy may hold it); the
            # route page says when web does not see it.
            self.platform |= {saved}
        cast(ProviderKeyField, self.fields["provider_key"]).offer(keys, self.platform)
        self.key: ProviderKey | None = None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        given = [self.cleaned_data.get(f) is not None for f in ("price_input", "price_output")]
        if any(given) and not all(given):
            self.add_error(None, "Give both prices, or neither to use the shipped price list.")
        provider, choice = self.cleaned_data.get("provider"), self.cleaned_data.get("provider_key")
        if provider and choice is not None:
            try:
                self.key = resolve_key(provider, choice, self.keys, self.platform)
            except ValidationError as e:
                self.add_error("provider_key", e)
        return cleaned

    def spec(self) -> DeploymentSpec:
        data = self.cleaned_data
        key = self.key
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
        self.keys = list(keys)  # read once for every row
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
