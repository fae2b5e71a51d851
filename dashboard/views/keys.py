"""API keys: list by prefix, create (the full key shown once), revoke after a confirmation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dashboard.budget_forms import RateLimitsForm, limits_of
from dashboard.decorators import org_view, request_user
from dashboard.forms import ApiKeyForm, add_action_error
from dashboard.views.common import form_status, render_org
from gateway.models import Route
from observability.usage import spend_by, this_month
from tenants import actions, rate_limits
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import ApiKey, Membership, Organization, Project, User
from tenants.roles import Access, Area, may, may_change_key
from tenants.scoping import for_org, get_for_org


def first_request(org: Organization) -> dict[str, str | None]:
    """Where to send a first request with a new key, and a model alias the org has a route for."""
    route = for_org(Route.objects.all(), org).order_by("model").first()
    return {"proxy_url": settings.PROXY_URL.rstrip("/"), "model": route.model if route else None}


def may_revoke(membership: Membership, key: ApiKey) -> bool:
    """Admins revoke any key; members only the keys that are theirs."""
    return may_change_key(membership.role, membership.user_id, key.user_id)


@org_view(Area.KEYS)
def keys(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's keys by prefix; the secret itself is never kept, so never shown."""
    rows = for_org(ApiKey.objects.select_related("project", "user"), membership.org).order_by(
        "-created_at"
    )
    since, until = this_month(timezone.now().date())
    context = {"keys": rows, "spend": spend_by(membership.org, "key", since, until)}
    return render_org(request, membership, "dashboard/keys.html", context, section="keys")


@never_cache
@org_view(Area.KEYS, Access.OWN)
@require_http_methods(["GET", "POST"])
def new_key(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Create a key; admins pick any owner, members get keys of their own."""
    org = membership.org
    is_admin = may(membership.role, Area.KEYS, Access.WRITE)
    owners = User.objects.filter(memberships__org=org) if is_admin else None
    projects = for_org(Project.objects.all(), org)
    initial = {"project": request.GET.get("project")} if request.method == "GET" else None
    form = ApiKeyForm(projects, owners, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data["user"] if is_admin else request_user(request)
        project: Project = form.cleaned_data["project"]
        try:
            issued = actions.issue_api_key(
                project,
                form.cleaned_data["name"],
                Actor.from_request(request),
                user=owner,
                limits=limits_of(form),
            )
        except ActionError as e:
            add_action_error(
                form,
                e,
                {
                    "user_id": "user",
                    "name": "name",
                    "rpm_limit": "rpm_limit",
                    "tpm_limit": "tpm_limit",
                },
            )
        else:
            # Rendered, not redirected: the clear key exists only in this response;
            # putting it in the session to survive a redirect would store it.
            context = {
                "issued": issued,
                "project": project,
                "key_name": form.cleaned_data["name"],
                **first_request(org),
            }
            return render_org(
                request, membership, "dashboard/key_created.html", context, section="keys"
            )
    return render_org(
        request,
        membership,
        "dashboard/key_new.html",
        {"form": form},
        section="keys",
        status=form_status(request),
    )


@org_view(Area.KEYS, Access.OWN)
@require_http_methods(["GET", "POST"])
def revoke_key(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    """Ask to confirm, then revoke a key; the proxy refuses it within a second."""
    key = get_for_org(ApiKey.objects.select_related("project", "org"), membership.org, id=key_id)
    if not may_revoke(membership, key):
        raise PermissionDenied
    if request.method == "GET":
        return render_org(
            request, membership, "dashboard/key_revoke.html", {"key": key}, section="keys"
        )
    actions.revoke_api_key(key, Actor.from_request(request))
    messages.success(request, f"Key {key.prefix}… ({key.name}) was revoked.")
    return redirect("dashboard:keys", slug=membership.org.slug)


@org_view(Area.KEYS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def key_limits(request: HttpRequest, membership: Membership, key_id: str) -> HttpResponse:
    """Set a key's own requests and tokens per minute; its project's limits apply as well."""
    key = get_for_org(ApiKey.objects.select_related("project"), membership.org, id=key_id)
    initial = {"rpm_limit": key.rpm_limit, "tpm_limit": key.tpm_limit}
    form = RateLimitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rate_limits.set_key_rate_limits(key, limits_of(form), Actor.from_request(request))
        except ActionError as e:
            add_action_error(form, e, {})
        else:
            messages.success(request, f"Rate limits of key {key.prefix}… were saved.")
            return redirect("dashboard:keys", slug=membership.org.slug)
    context = {"form": form, "key": key}
    return render_org(
        request,
        membership,
        "dashboard/key_limits.html",
        context,
        section="keys",
        status=form_status(request),
    )
