"""Members and invitations: list, invite, change roles, remove, revoke."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.decorators import org_view, request_user
from dashboard.forms import InvitationForm, RoleForm, add_action_error
from dashboard.views.common import form_status, render_org
from tenants import actions
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Invitation, Membership, Role
from tenants.roles import Access, Area, may
from tenants.scoping import for_org, get_for_org


def members_url(membership: Membership) -> str:
    return reverse("dashboard:members", kwargs={"slug": membership.org.slug})


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('dashboard:invitation', args=[token])}"


@org_view(Area.MEMBERS)
def members(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the members; admins also see open invitations and the controls to manage both."""
    org = membership.org
    rows = for_org(Membership.objects.select_related("user"), org).order_by("created_at")
    invitations = (
        for_org(Invitation.objects.select_related("invited_by"), org)
        .filter(accepted_at=None, revoked_at=None)
        .order_by("-created_at")
        if may(membership.role, Area.MEMBERS, Access.WRITE)
        else Invitation.objects.none()
    )
    context = {
        "rows": rows,
        "invitations": invitations,
        "roles": Role.choices,
        "now": timezone.now(),
    }
    return render_org(request, membership, "dashboard/members.html", context, section="members")


@never_cache
@org_view(Area.MEMBERS, Access.WRITE)
def invite(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Invite someone by email; the link is shown on the answer to the POST, and only there."""
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        try:
            invitation, token = actions.invite_member(
                membership.org, email, role, Actor.from_request(request)
            )
        except ActionError as e:
            add_action_error(form, e, {"email": "email", "role": "role"})
        else:
            # Rendered, not redirected: the token is never stored anywhere, not even
            # in the session, so this response is the only place it can appear.
            context = {"invitation": invitation, "link": invitation_link(token)}
            return render_org(
                request, membership, "dashboard/invite_created.html", context, section="members"
            )
    context = {"form": form}
    return render_org(
        request,
        membership,
        "dashboard/invite_new.html",
        context,
        section="members",
        status=form_status(request),
    )


@org_view(Area.MEMBERS, Access.WRITE)
@require_POST
def revoke_invitation(
    request: HttpRequest, membership: Membership, invitation_id: str
) -> HttpResponse:
    """Revoke an open invitation so its link stops working."""
    found = get_for_org(Invitation.objects.select_related("org"), membership.org, id=invitation_id)
    actions.revoke_invitation(found, Actor.from_request(request))
    messages.success(request, f"The invitation for {found.email} was revoked.")
    return redirect(members_url(membership))


@org_view(Area.MEMBERS, Access.WRITE)
@require_POST
def change_role(request: HttpRequest, membership: Membership, membership_id: str) -> HttpResponse:
    """Give a member another role; the last admin cannot stop being one."""
    target = get_for_org(
        Membership.objects.select_related("user", "org"), membership.org, id=membership_id
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: admin, member or billing.")
    elif form.cleaned_data["role"] == target.role:
        messages.info(request, f"{target.user.email} already has that role.")
    else:
        try:
            actions.change_role(target, form.cleaned_data["role"], Actor.from_request(request))
        except ActionError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, f"{target.user.email} is now {target.get_role_display()}.")
    return redirect(members_url(membership))


@org_view(Area.MEMBERS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, membership: Membership, membership_id: str) -> HttpResponse:
    """Ask to confirm, then remove a member from the org."""
    target = get_for_org(
        Membership.objects.select_related("user", "org"), membership.org, id=membership_id
    )
    if request.method == "GET":
        context = {"target": target, "is_self": target.id == membership.id}
        return render_org(
            request, membership, "dashboard/member_remove.html", context, section="members"
        )
    try:
        actions.remove_member(target, Actor.from_request(request))
    except ActionError as e:
        messages.error(request, e.message)
        return redirect(members_url(membership))
    if target.user_id == request_user(request).id:
        messages.success(request, f"You left {membership.org.name}.")
        return redirect("dashboard:home")
    messages.success(request, f"{target.user.email} was removed from {membership.org.name}.")
    return redirect(members_url(membership))
