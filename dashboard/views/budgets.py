"""Budgets: limits with their live spend, add and delete them, and the org's budget settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.budget_forms import BudgetForm, BudgetSettingsForm
from dashboard.decorators import org_view
from dashboard.forms import add_action_error
from dashboard.views.common import form_status, render_org
from gateway.budgets import actions
from gateway.budgets.models import Budget, Period, Scope
from gateway.budgets.status import budget_statuses, scope_names
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Membership, Organization
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org

# Where an action's error lands on the settings form.
SETTINGS_FIELDS = {
    "default_price.input_per_mtok": "price_input",
    "default_price.output_per_mtok": "price_output",
}


@org_view(Area.BUDGETS)
def budgets(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the budgets with what is spent and reserved in the current window."""
    org = Organization.objects.get(id=membership.org_id)
    statuses = budget_statuses(org, list(for_org(Budget.objects.all(), org)))
    # Widest scope first (org, team, project, member, key), then by name and period.
    statuses.sort(
        key=lambda s: (
            Scope.values.index(s.budget.scope),
            s.scope_name.lower(),
            Period.values.index(s.budget.period),
        )
    )
    context = {"statuses": statuses, "settings": org}
    return render_org(request, membership, "dashboard/budgets.html", context, section="budgets")


@org_view(Area.BUDGETS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_budget(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add a budget on the org, a team, a project, a member or a key."""
    org = membership.org
    form = BudgetForm(org, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_budget(org, form.spec(), Actor.from_request(request))
        except ActionError as e:
            add_action_error(form, e, {"limit_usd": "limit_usd", "scope_id": "scope_id"})
        else:
            messages.success(
                request, "The budget was added; the proxy enforces it within a second."
            )
            return redirect("dashboard:budgets", slug=org.slug)
    return render_org(
        request,
        membership,
        "dashboard/budget_new.html",
        {"form": form},
        section="budgets",
        status=form_status(request),
    )


@org_view(Area.BUDGETS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def delete_budget(request: HttpRequest, membership: Membership, budget_id: str) -> HttpResponse:
    """Ask to confirm, then delete a budget; its scope may then spend without this limit."""
    org = membership.org
    budget = get_for_org(Budget.objects.all(), org, id=budget_id)
    name = scope_names(org, [budget]).get((budget.scope, budget.scope_id), str(budget.scope_id))
    if request.method == "GET":
        context = {"budget": budget, "scope_name": name}
        return render_org(
            request, membership, "dashboard/budget_delete.html", context, section="budgets"
        )
    actions.delete_budget(budget, Actor.from_request(request), scope_label=name)
    messages.success(
        request, f"The {budget.get_period_display().lower()} budget of {name} was deleted."
    )
    return redirect("dashboard:budgets", slug=org.slug)


@org_view(Area.BUDGETS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def budget_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Set the time zone of day and month budgets, the default price and max output tokens."""
    org = Organization.objects.get(id=membership.org_id)
    form = BudgetSettingsForm(request.POST or None, initial=BudgetSettingsForm.initial_for(org))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_budget_settings(org, form.spec(), Actor.from_request(request))
        except ActionError as e:
            add_action_error(form, e, SETTINGS_FIELDS)
        else:
            messages.success(request, "Budget settings were saved.")
            return redirect("dashboard:budgets", slug=org.slug)
    return render_org(
        request,
        membership,
        "dashboard/budget_settings.html",
        {"form": form},
        section="budgets",
        status=form_status(request),
    )
