"""Provider keys (BYOK): admins add and revoke an org's own keys; a key is never shown again."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dashboard.decorators import org_view
from dashboard.forms import add_action_error
from dashboard.route_forms import ProviderKeyForm
from dashboard.views.common import form_status, render_org
from gateway import actions
from gateway.models import ProviderKey, Route
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Membership
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org


@org_view(Area.PROVIDER_KEYS)
def provider_keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's provider keys by provider, name and last four characters."""
    rows = for_org(ProviderKey.objects.select_related("created_by"), membership.org)
    rows = rows.annotate(routes_using=Count("deployments__route", distinct=True))
    context = {"provider_keys": rows.order_by("-created_at")}
    return render_org(
        request, membership, "dashboard/provider_keys.html", context, section="provider_keys"
    )


@never_cache
@org_view(Area.PROVIDER_KEYS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_provider_key(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Add a key; it is sealed at once and the page never renders it back."""
    form = ProviderKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key = actions.add_provider_key(
                membership.org,
                data["provider"],
                data["api_key"],
                Actor.from_request(request),
                name=data["name"],
            )
        except ActionError as e:
            add_action_error(form, e, {})
        else:
            messages.success(request, f"{key} was added.")
            return redirect("dashboard:provider-keys", slug=membership.org.slug)
    return render_org(
        request,
        membership,
        "dashboard/provider_key_new.html",
        {"form": form},
        section="provider_keys",
        status=form_status(request),
    )


@org_view(Area.PROVIDER_KEYS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def revoke_provider_key(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    """Ask to confirm, then revoke a key; refused while a route still uses it."""
    key = get_for_org(ProviderKey.objects.select_related("org"), membership.org, id=key_id)
    if request.method == "GET":
        using = Route.objects.filter(deployments__provider_key=key).distinct().order_by("model")
        context = {"key": key, "routes_using": using}
        return render_org(
            request,
            membership,
            "dashboard/provider_key_revoke.html",
            context,
            section="provider_keys",
        )
    try:
        actions.revoke_provider_key(key, Actor.from_request(request))
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"{key} was revoked.")
    return redirect("dashboard:provider-keys", slug=membership.org.slug)
