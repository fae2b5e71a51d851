"""Management tokens: bearer tokens for the REST API, admin-only, shown once like keys."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dashboard.decorators import org_view
from dashboard.forms import TokenForm
from dashboard.views.common import form_status, render_org
from tenants import actions
from tenants.audit import Actor
from tenants.models import ManagementToken, Membership
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org


@org_view(Area.TOKENS)
def tokens(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's management tokens by prefix."""
    rows = for_org(ManagementToken.objects.select_related("created_by"), membership.org)
    context = {"tokens": rows.order_by("-created_at")}
    return render_org(request, membership, "dashboard/tokens.html", context, section="tokens")


@never_cache
@org_view(Area.TOKENS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_token(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Create a token; like an API key, the secret is rendered once and never stored."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = actions.issue_management_token(
            membership.org, form.cleaned_data["name"], Actor.from_request(request)
        )
        context = {"issued": issued, "token_name": form.cleaned_data["name"]}
        return render_org(
            request, membership, "dashboard/token_created.html", context, section="tokens"
        )
    return render_org(
        request,
        membership,
        "dashboard/token_new.html",
        {"form": form},
        section="tokens",
        status=form_status(request),
    )


@org_view(Area.TOKENS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def revoke_token(request: HttpRequest, membership: Membership, token_id: str) -> HttpResponse:
    """Ask to confirm, then revoke a management token; it stops working at once."""
    token = get_for_org(ManagementToken.objects.select_related("org"), membership.org, id=token_id)
    if request.method == "GET":
        return render_org(
            request, membership, "dashboard/token_revoke.html", {"token": token}, section="tokens"
        )
    actions.revoke_management_token(token, Actor.from_request(request))
    messages.success(request, f"Token {token.prefix}… ({token.name}) was revoked.")
    return redirect("dashboard:tokens", slug=membership.org.slug)
