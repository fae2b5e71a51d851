"""Routes: model aliases and their deployments. Members read them; admins change them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.decorators import org_view
from dashboard.route_forms import (
    NO_KEY,
    PLATFORM,
    DeploymentForm,
    DeploymentFormSet,
    RouteForm,
    route_spec,
)
from dashboard.views.common import form_status, render_org
from gateway import actions
from gateway.models import Deployment, ProviderKey, Route
from gateway.shared.managed_access import KEYLESS_PROVIDERS
from gateway.shared.providers_catalog import PROVIDER_LABELS
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Membership
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org

# Where an action's error about a deployment lands in the editor's row.
ROW_FIELDS = {
    "provider_key_id": "provider_key",
    "price": "price_input",
    "price.input_per_mtok": "price_input",
    "price.output_per_mtok": "price_output",
}


def _routes(membership: Membership) -> QuerySet[Route]:
    return for_org(Route.objects.prefetch_related("deployments"), membership.org)


@org_view(Area.ROUTES)
def routes(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's model aliases with a one-line summary of where each goes."""
    context = {"routes": _routes(membership).order_by("model")}
    return render_org(request, membership, "dashboard/routes.html", context, section="routes")


@org_view(Area.ROUTES)
def route_detail(request: HttpRequest, membership: Membership, route_id: str) -> HttpResponse:
    route = get_for_org(_routes(membership), membership.org, id=route_id)
    deployments = route.deployments.select_related("provider_key")
    context = {
        "route": route,
        "deployments": deployments,
        "platform_providers": settings.PLATFORM_KEY_PROVIDERS,
        "keyless_providers": KEYLESS_PROVIDERS,
    }
    return render_org(request, membership, "dashboard/route.html", context, section="routes")


def no_key(provider: str) -> str:
    """The key choice of a saved deployment that names none of the org's keys."""
    return NO_KEY if provider in KEYLESS_PROVIDERS else PLATFORM


def _platform_labels() -> list[str]:
    return [PROVIDER_LABELS[p] for p in sorted(settings.PLATFORM_KEY_PROVIDERS)]


def _initial_rows(route: Route) -> list[dict[str, Any]]:
    def row(d: Deployment) -> dict[str, Any]:
        return {
            "provider": d.provider,
            "model": d.model,
            "provider_key": str(d.provider_key_id) if d.provider_key_id else no_key(d.provider),
            "api_base": d.api_base or "",
            "api_version": d.api_version or "",
            "weight": d.weight,
            "quality": d.quality,
            "price_input": d.price_input_per_mtok,
            "price_output": d.price_output_per_mtok,
            "timeout_s": d.timeout_s,
            "connect_timeout_s": d.connect_timeout_s,
            "health_check": d.health_check,
            "ORDER": d.position + 1,
        }

    return [row(d) for d in route.deployments.all()]


def _show_action_error(error: ActionError, form: RouteForm, rows: list[DeploymentForm]) -> None:
    """Put the action's error beside the field it names: deployments.<i>.<field> is row i."""
    param = error.field or ""
    if param.startswith("deployments."):
        _, index, field = param.split(".", 2)
        row = rows[int(index)]
        name = ROW_FIELDS.get(field, field)
        row.add_error(name if name in row.fields else None, error.message)
        return
    form.add_error(param if param in form.fields else None, error.message)


def _editor(request: HttpRequest, membership: Membership, route: Route | None) -> HttpResponse:
    """Render or save the route editor; `route` is None on the create page."""
    org = membership.org
    keys = for_org(ProviderKey.objects.filter(revoked_at=None), org).order_by("provider", "name")
    data = request.POST if request.method == "POST" else None
    initial = (
        {
            "strategy": route.strategy,
            "min_quality": route.min_quality,
            "max_attempts": route.max_attempts,
            "deadline_s": route.deadline_s,
        }
        if route
        else None
    )
    form = RouteForm(data, initial=initial, editing=route is not None)
    rows_initial = _initial_rows(route) if route else None
    formset = DeploymentFormSet(data, initial=rows_initial, prefix="d", keys=keys)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = formset.rows_in_use()
        alias = route.model if route else form.cleaned_data["model"]
        try:
            saved, _ = actions.replace_route(
                org, alias, route_spec(form, rows), Actor.from_request(request), new=route is None
            )
        except ActionError as e:
            _show_action_error(e, form, rows)
        else:
            verb = "created" if route is None else "saved"
            messages.success(request, f"Route {saved.model} was {verb}.")
            return redirect("dashboard:route", slug=org.slug, route_id=saved.id)
    context = {
        "form": form,
        "formset": formset,
        "route": route,
        "has_keys": keys.exists(),
        "platform_labels": _platform_labels(),
    }
    return render_org(
        request,
        membership,
        "dashboard/route_form.html",
        context,
        section="routes",
        status=form_status(request),
    )


@org_view(Area.ROUTES, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_route(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _editor(request, membership, None)


@org_view(Area.ROUTES, Access.WRITE)
@require_http_methods(["GET", "POST"])
def edit_route(request: HttpRequest, membership: Membership, route_id: str) -> HttpResponse:
    route = get_for_org(_routes(membership), membership.org, id=route_id)
    return _editor(request, membership, route)


@org_view(Area.ROUTES, Access.WRITE)
@require_http_methods(["GET", "POST"])
def delete_route(request: HttpRequest, membership: Membership, route_id: str) -> HttpResponse:
    """Ask to confirm, then delete a route; requests for its alias then answer model_not_found."""
    route = get_for_org(Route.objects.all(), membership.org, id=route_id)
    if request.method == "GET":
        return render_org(
            request, membership, "dashboard/route_delete.html", {"route": route}, section="routes"
        )
    actions.delete_route(route, Actor.from_request(request))
    messages.success(request, f"Route {route.model} was deleted.")
    return redirect("dashboard:routes", slug=membership.org.slug)
