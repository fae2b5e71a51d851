"""PII policy: the org's, and a project's own that replaces it. Members read; admins change."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.decorators import org_view
from dashboard.pii_forms import (
    PatternFormSet,
    PiiPolicyForm,
    initial_rows,
    policy_spec,
    show_action_error,
)
from dashboard.views.common import form_status, render_org
from gateway.pii_policy import actions
from gateway.pii_policy.models import PiiPolicy
from gateway.pii_policy.specs import PolicySpec
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Membership, Project
from tenants.roles import Access, Area, may
from tenants.scoping import get_for_org


def _editor(request: HttpRequest, membership: Membership, project: Project | None) -> HttpResponse:
    """Render or save the policy editor of the org (project None) or of one project."""
    org = membership.org
    is_admin = may(membership.role, Area.PII_POLICY, Access.WRITE)
    if request.method == "POST" and not is_admin:
        raise PermissionDenied
    org_policy = PiiPolicy.objects.filter(org=org, project=None).first()
    own = PiiPolicy.objects.filter(org=org, project=project).first() if project else None
    # A project without its own policy starts its editor from the org's.
    current = PolicySpec.of(own or org_policy)
    data = request.POST if request.method == "POST" else None
    form = PiiPolicyForm(data, initial=PiiPolicyForm.initial_for(current), read_only=not is_admin)
    formset = PatternFormSet(data, initial=initial_rows(current), prefix="p")
    if not is_admin:
        for row in formset.forms:
            for field in row.fields.values():
                field.disabled = True
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = formset.rows_in_use()
        spec = policy_spec(form, rows)
        actor = Actor.from_request(request)
        try:
            if project is None:
                actions.set_org_policy(org, spec, actor)
            else:
                actions.set_project_policy(project, spec, actor)
        except ActionError as e:
            show_action_error(e, form, rows)
        else:
            whose = "The PII policy" if project is None else f"The PII policy of {project.name}"
            messages.success(request, f"{whose} was saved; the proxy applies it within a second.")
            if project is None:
                return redirect("dashboard:pii-policy", slug=org.slug)
            return redirect("dashboard:project-pii-policy", slug=org.slug, project_id=project.id)
    context = {
        "form": form,
        "formset": formset,
        "project": project,
        "has_own": own is not None,
        # What the proxy applies now (saved), not what a refused form holds.
        "scanning": current.enabled,
        "scanned_types": len(current.entities) + len(current.custom_patterns),
    }
    return render_org(
        request,
        membership,
        "dashboard/pii_policy.html",
        context,
        section="pii" if project is None else "projects",
        status=form_status(request),
    )


@org_view(Area.PII_POLICY)
@require_http_methods(["GET", "POST"])
def pii_policy(request: HttpRequest, membership: Membership) -> HttpResponse:
    return _editor(request, membership, None)


@org_view(Area.PII_POLICY)
@require_http_methods(["GET", "POST"])
def project_pii_policy(
    request: HttpRequest, membership: Membership, project_id: str
) -> HttpResponse:
    project = get_for_org(Project.objects.all(), membership.org, id=project_id)
    return _editor(request, membership, project)


@org_view(Area.PII_POLICY, Access.WRITE)
@require_http_methods(["POST"])
def delete_project_pii_policy(
    request: HttpRequest, membership: Membership, project_id: str
) -> HttpResponse:
    """Drop the project's own policy; the org's applies to it again."""
    project = get_for_org(Project.objects.all(), membership.org, id=project_id)
    if actions.delete_project_policy(project, Actor.from_request(request)):
        messages.success(request, f"{project.name} follows the organization's PII policy again.")
    return redirect("dashboard:project-pii-policy", slug=membership.org.slug, project_id=project.id)
