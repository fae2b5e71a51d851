"""The public invitation page: accept while logged in, or sign up / log in first."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.forms import AccountForm, add_action_error
from dashboard.ratelimit import limit_attempts
from dashboard.views.accounts import PASSWORD_BACKEND, clerk_mode, enter_org, to_clerk
from dashboard.views.common import form_status
from tenants import actions
from tenants.audit import Actor
from tenants.client_address import client_ip
from tenants.errors import ActionError
from tenants.models import Invitation, Membership, User


def no_longer_valid(request: HttpRequest) -> HttpResponse:
    # 410 Gone: the link existed or may have, but it cannot be used any more.
    return render(request, "dashboard/invite_invalid.html", status=410)


def invitation_page(
    request: HttpRequest, invitation: Invitation, token: str, form: AccountForm, status: int = 200
) -> HttpResponse:
    user = request.user if isinstance(request.user, User) else None
    already_member = (
        user is not None and Membership.objects.filter(org=invitation.org_id, user=user).exists()
    )
    context = {
        "invitation": invitation,
        "token": token,
        "form": form,
        "invited_user": user,
        "already_member": already_member,
        "other_email": user is not None and user.email != invitation.email,
    }
    return render(request, "dashboard/invite.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; a POST from a logged-in person accepts it."""
    found = actions.find_invitation(token)
    if found is None:
        return no_longer_valid(request)
    if request.method == "GET":
        return invitation_page(request, found, token, AccountForm(initial={"email": found.email}))
    user = request.user
    if not isinstance(user, User):
        return redirect_to_login(request.get_full_path())
    try:
        membership = actions.accept_invitation(found, user, Actor.from_request(request))
    except ActionError:
        return no_longer_valid(request)
    messages.success(request, f"You joined {membership.org.name}.")
    return enter_org(request, membership.org)


@never_cache
@require_POST
@limit_attempts("signup")
def invitation_signup(request: HttpRequest, token: str) -> HttpResponse:
    """Create an account (without an org of its own) and accept the invitation with it."""
    if clerk_mode():
        return to_clerk(request)
    found = actions.find_invitation(token)
    if found is None:
        return no_longer_valid(request)
    if isinstance(request.user, User):
        return redirect("dashboard:invitation", token=token)
    form = AccountForm(request.POST)
    if form.is_valid():
        email, password = form.cleaned_data["email"], form.cleaned_data["password"]
        try:
            user, membership = actions.sign_up_invited(email, password, found, client_ip(request))
        except ActionError as e:
            if e.field == "token":
                return no_longer_valid(request)
            add_action_error(form, e, {"email": "email"})
        else:
            login(request, user, backend=PASSWORD_BACKEND)
            messages.success(request, f"Welcome to Selixes. You joined {membership.org.name}.")
            return enter_org(request, membership.org)
    return invitation_page(request, found, token, form, status=form_status(request))
