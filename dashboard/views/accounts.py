"""Sign-up, login, logout, the home redirect and creating another organization."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard.decorators import request_user
from dashboard.forms import LoginForm, OrganizationForm, SignUpForm, add_action_error
from dashboard.ratelimit import limit_attempts
from dashboard.views.common import form_status
from tenants import actions
from tenants.audit import Actor
from tenants.client_address import client_ip
from tenants.errors import ActionError
from tenants.models import Organization, User
from tenants.scoping import SESSION_ORG_KEY, current_membership

# Named explicitly: login() needs a backend when it did not come from authenticate().
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEFAULT_PROJECT = "Default"
# Where an action's error about the org's name or address shows on the sign-up form.
ORG_FIELDS = {"email": "email", "slug": "organization", "name": "organization"}


def clerk_mode() -> bool:
    return bool(settings.SELIXES_AUTH == "clerk")


def to_clerk(request: HttpRequest) -> HttpResponse:
    """Send the person to Clerk's hosted sign-in page."""
    if request.path == settings.CLERK_SIGN_IN_URL:
        # A misconfigured CLERK_SIGN_IN_URL pointing back here would loop forever.
        return render(request, "dashboard/clerk_unconfigured.html", status=503)
    return HttpResponseRedirect(settings.CLERK_SIGN_IN_URL)


def safe_next(request: HttpRequest) -> str | None:
    """Return the `next` URL if it stays on this site, else None."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def overview_url(org: Organization) -> str:
    return reverse("dashboard:overview", kwargs={"slug": org.slug})


def enter_org(request: HttpRequest, org: Organization) -> HttpResponse:
    request.session[SESSION_ORG_KEY] = str(org.id)
    return redirect(overview_url(org))


def home(request: HttpRequest) -> HttpResponse:
    """Send a member to the org they last chose; anyone else to the login page."""
    if not isinstance(request.user, User):
        return redirect("dashboard:login")
    membership = current_membership(request)
    if membership is None:
        return render(request, "dashboard/no_org.html")
    return redirect(overview_url(membership.org))


@limit_attempts("signup")
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and its organization (with a Default project), then log in."""
    if clerk_mode():
        return to_clerk(request)
    if isinstance(request.user, User):
        return redirect("dashboard:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction around both actions: an org is never left without its project.
            with transaction.atomic():
                user, org = actions.sign_up(
                    data["email"], data["password"], data["organization"], client_ip(request)
                )
                actor = Actor.from_request(request, user=user)
                actions.create_project(org, DEFAULT_PROJECT, actor)
        except ActionError as e:
            add_action_error(form, e, ORG_FIELDS)
        else:
            login(request, user, backend=PASSWORD_BACKEND)
            messages.success(request, f"Welcome to Selixes. {org.name} is ready.")
            return enter_org(request, org)
    return render(request, "dashboard/signup.html", {"form": form}, status=form_status(request))


@limit_attempts("login")
def login_view(request: HttpRequest) -> HttpResponse:
    """Log in with email and password."""
    if clerk_mode():
        return to_clerk(request)
    next_url = safe_next(request)
    if isinstance(request.user, User):
        return redirect(next_url or "dashboard:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["email"], password=form.cleaned_data["password"]
        )
        if user is None:
            form.add_error(None, "Email or password is incorrect.")
        else:
            login(request, user)
            return redirect(next_url or "dashboard:home")
    context = {"form": form, "next": next_url or ""}
    return render(request, "dashboard/login.html", context, status=form_status(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out; only by POST, so a link or an image on another site cannot do it."""
    logout(request)
    return redirect("dashboard:login")


@login_required
def new_organization(request: HttpRequest) -> HttpResponse:
    """Create another organization with the requester as its admin."""
    if clerk_mode():
        # Clerk owns organizations in that mode; they arrive here through its webhooks.
        raise Http404
    user = request_user(request)
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                actor = Actor.from_request(request)
                org = actions.create_organization(user, form.cleaned_data["name"], actor)
                actions.create_project(org, DEFAULT_PROJECT, actor)
        except ActionError as e:
            add_action_error(form, e, {"slug": "name"})
        else:
            messages.success(request, f"{org.name} is ready.")
            return enter_org(request, org)
    return render(request, "dashboard/org_new.html", {"form": form}, status=form_status(request))
