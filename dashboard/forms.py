"""Forms of the dashboard: every input has a max length; names are stripped and checked."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from tenants.errors import ActionError
from tenants.models import RPM_LIMIT_MAX, TPM_LIMIT_MAX, Project, Role, Team, User

NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
# Argon2 hashes any length, but an unbounded password is an easy way to burn CPU.
PASSWORD_MAX_LENGTH = 256
# Bidirectional overrides let a name display differently from what it is ("evil‮gpj.exe").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def refuse_control_characters(value: str) -> None:
    """Refuse names that carry control or bidirectional formatting characters."""
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in value):
        raise ValidationError("Control characters are not allowed.", code="control_characters")


class NameField(forms.CharField):
    """A stripped, bounded, printable name."""

    default_validators = [refuse_control_characters]

    def __init__(self, *, max_length: int = NAME_MAX_LENGTH, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, strip=True, **kwargs)


class EmailField(forms.EmailField):
    """An email address, lower-cased as accounts store it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=EMAIL_MAX_LENGTH, **kwargs)

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).lower()


class PasswordField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        super().__init__(max_length=PASSWORD_MAX_LENGTH, strip=False, **kwargs)


# Not subscripted: ModelChoiceField is generic only in django-stubs, not at runtime.
class OrgChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A choice among one org's objects; another org's id answers 404 like it does in URLs."""

    def to_python(self, value: Any | None) -> Model | None:
        try:
            return super().to_python(value)
        except ValidationError as e:
            # An id the form never offered was typed by hand: treat it as the
            # URL lookups do, so another org's objects are indistinguishable
            # from objects that do not exist.
            raise Http404 from e


def add_action_error(form: forms.Form, error: ActionError, fields: dict[str, str]) -> None:
    """Show an action's error on the form field it concerns (`fields` maps action to form)."""
    field = fields.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, error.message)


def rpm_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Requests per minute",
        min_value=1,
        max_value=RPM_LIMIT_MAX,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "No limit"}),
    )


def tpm_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Tokens per minute",
        min_value=1,
        max_value=TPM_LIMIT_MAX,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "No limit"}),
    )


class _NewAccountForm(forms.Form):
    email = EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = PasswordField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common or all-numeric password.",
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        email, password = self.cleaned_data.get("email"), self.cleaned_data.get("password")
        if email and password:
            try:
                password_validation.validate_password(password, User(email=email))
            except ValidationError as e:
                self.add_error("password", e)
        return cleaned


class SignUpForm(_NewAccountForm):
    organization = NameField(
        label="Organization name",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class AccountForm(_NewAccountForm):
    """Sign up without an org, to accept an invitation."""


class LoginForm(forms.Form):
    email = EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = PasswordField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OrganizationForm(forms.Form):
    name = NameField(label="Organization name", widget=forms.TextInput(attrs={"autofocus": True}))


class TeamForm(forms.Form):
    name = NameField(widget=forms.TextInput(attrs={"autofocus": True}))


class ProjectForm(forms.Form):
    name = NameField(widget=forms.TextInput(attrs={"autofocus": True}))
    team = OrgChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")

    def __init__(self, teams: QuerySet[Team], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams.order_by("name")  # type: ignore[attr-defined]


class ApiKeyForm(forms.Form):
    project = OrgChoiceField(queryset=Project.objects.none(), empty_label=None)
    name = NameField(
        help_text="Where the key is used, e.g. “production backend”.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    user = OrgChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Owner",
        empty_label="Nobody (a project key)",
        help_text="Budgets set on a person also count this key's spend.",
    )
    rpm_limit = rpm_field()
    tpm_limit = tpm_field()

    def __init__(
        self,
        projects: QuerySet[Project],
        owners: QuerySet[User] | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Offer `owners` to pick from, or no owner field when the key is the requester's own.

        Rate limits are an admin's control, offered with the owner field.
        """
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects.order_by("name")  # type: ignore[attr-defined]
        if owners is None:
            del self.fields["user"], self.fields["rpm_limit"], self.fields["tpm_limit"]
        else:
            self.fields["user"].queryset = owners.order_by("email")  # type: ignore[attr-defined]


class TokenForm(forms.Form):
    name = NameField(
        help_text="What uses it, e.g. “terraform” or “CI”.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )


class InvitationForm(forms.Form):
    email = EmailField(widget=forms.EmailInput(attrs={"autofocus": True}))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
