"""The request log's filter form: the API's filters (observability.request_query) for people.

The form speaks in windows ("last 24 hours") and names (projects, keys), and
turns into the API's query parameters, so the page, its pager and its export
links run the one query the API runs. A choice that is not the org's (a
project id pasted from another org) is simply invalid here.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.http import urlencode

from dashboard.request_reasons import REASONS
from tenants.models import ApiKey, Organization, Project

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
WINDOW_CHOICES = [
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
]
STATUS_CHOICES = [
    ("", "Any status"),
    ("2xx", "Succeeded (2xx)"),
    ("error", "Failed (4xx, 5xx)"),
    ("4xx", "Refused (4xx)"),
    ("5xx", "Upstream or server error (5xx)"),
    ("401", "401 bad key"),
    ("402", "402 budget or plan"),
    ("429", "429 rate limited"),
    ("502", "502 provider failed"),
    ("504", "504 provider timed out"),
]
# The error types the proxy answers with (CONTRACT.md section 5), then the codes it logs.
ERROR_TYPES = (
    "invalid_request_error", "authentication_error", "not_found_error", "budget_exceeded",
    "plan_limit_exceeded", "rate_limit_exceeded", "pii_blocked", "upstream_error", "api_error",
)  # fmt: skip
ERROR_CHOICES: list[tuple[str, object]] = [
    ("", "Any outcome"),
    ("Error types", [(t, t) for t in ERROR_TYPES]),
    ("Error codes", [(c, c) for c in sorted(REASONS)]),
]
FILTER_NAMES = ("window", "model", "project_id", "key_id", "status", "error_type")


class RequestFilterForm(forms.Form):
    window = forms.ChoiceField(choices=WINDOW_CHOICES, required=False, label="When")
    model = forms.CharField(max_length=200, required=False, label="Model")
    project_id = forms.ChoiceField(required=False, label="Project")
    key_id = forms.ChoiceField(required=False, label="Key")
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Status")
    error_type = forms.ChoiceField(choices=ERROR_CHOICES, required=False, label="Error")

    def __init__(self, data: object, org: Organization) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        projects = Project.objects.filter(org=org).order_by("name").values_list("id", "name")
        self.fields["project_id"].choices = [("", "All projects")] + [  # type: ignore[attr-defined]
            (str(i), name) for i, name in projects
        ]
        keys = ApiKey.objects.filter(org=org).order_by("name").values_list("id", "name", "prefix")
        self.fields["key_id"].choices = [("", "All keys")] + [  # type: ignore[attr-defined]
            (str(i), f"{name} ({prefix}…)") for i, name, prefix in keys
        ]
        self.fields["model"].widget.attrs.update(
            {"placeholder": "gpt-4o-mini", "spellcheck": "false", "autocomplete": "off"}
        )

    def api_params(self) -> dict[str, str]:
        """The API's query parameters for the chosen filters (call after is_valid())."""
        chosen = {name: value for name, value in self.cleaned_data.items() if value}
        window = chosen.pop("window", None)
        if window:
            chosen["from"] = (timezone.now() - WINDOWS[window]).isoformat()
        return chosen

    def query(self) -> str:
        """The chosen filters as a query string, for links that keep them (pager, exports)."""
        return urlencode({n: self.cleaned_data[n] for n in FILTER_NAMES if self.cleaned_data[n]})

    @property
    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in FILTER_NAMES)
