"""Teams and projects: list, create, and a project's page with its keys."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from dashboard.budget_forms import RateLimitsForm, limits_of
from dashboard.decorators import org_view
from dashboard.forms import ProjectForm, TeamForm, add_action_error
from dashboard.views.common import form_status, render_org
from dashboard.views.observability import project_observability_context
from observability.usage import spend_by, this_month
from tenants import actions, rate_limits
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import ApiKey, Membership, Project, Team
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org


@org_view(Area.PROJECTS)
def teams(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's teams with how many projects each has."""
    rows = (
        for_org(Team.objects.all(), membership.org)
        .annotate(project_count=Count("projects"))
        .order_by("name")
    )
    return render_org(request, membership, "dashboard/teams.html", {"rows": rows}, section="teams")


@org_view(Area.PROJECTS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_team(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Create a team."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.create_team(
                membership.org, form.cleaned_data["name"], Actor.from_request(request)
            )
        except ActionError as e:
            add_action_error(form, e, {"name": "name"})
        else:
            messages.success(request, f"Team {team.name} was created.")
            return redirect("dashboard:teams", slug=membership.org.slug)
    return render_org(
        request,
        membership,
        "dashboard/team_new.html",
        {"form": form},
        section="teams",
        status=form_status(request),
    )


@org_view(Area.PROJECTS)
def projects(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's projects with their team and number of active keys."""
    rows = (
        for_org(Project.objects.select_related("team"), membership.org)
        .annotate(active_keys=Count("api_keys", filter=Q(api_keys__revoked_at=None)))
        .order_by("name")
    )
    since, until = this_month(timezone.now().date())
    context = {"rows": rows, "spend": spend_by(membership.org, "project", since, until)}
    return render_org(request, membership, "dashboard/projects.html", context, section="projects")


@org_view(Area.PROJECTS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def new_project(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Create a project, optionally in a team."""
    org = membership.org
    form = ProjectForm(for_org(Team.objects.all(), org), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = actions.create_project(
                org,
                form.cleaned_data["name"],
                Actor.from_request(request),
                team=form.cleaned_data["team"],
            )
        except ActionError as e:
            add_action_error(form, e, {"name": "name", "team": "team"})
        else:
            messages.success(request, f"Project {project.name} was created.")
            return redirect(
                reverse("dashboard:project", kwargs={"slug": org.slug, "project_id": project.id})
            )
    return render_org(
        request,
        membership,
        "dashboard/project_new.html",
        {"form": form},
        section="projects",
        status=form_status(request),
    )


@org_view(Area.PROJECTS)
def project_detail(request: HttpRequest, membership: Membership, project_id: str) -> HttpResponse:
    """Show a project and its keys."""
    project = get_for_org(Project.objects.select_related("team"), membership.org, id=project_id)
    keys = (
        for_org(ApiKey.objects.select_related("project", "user"), membership.org)
        .filter(project=project)
        .order_by("-created_at")
    )
    since, until = this_month(timezone.now().date())
    context = {
        "project": project,
        "keys": keys,
        **project_observability_context(project),
        "spend": spend_by(membership.org, "key", since, until),
        "project_spend": spend_by(membership.org, "project", since, until).get(project.id, 0),
    }
    return render_org(request, membership, "dashboard/project.html", context, section="projects")


@org_view(Area.PROJECTS, Access.WRITE)
@require_http_methods(["GET", "POST"])
def project_limits(request: HttpRequest, membership: Membership, project_id: str) -> HttpResponse:
    """Set the requests and tokens per minute a project's keys share."""
    project = get_for_org(Project.objects.all(), membership.org, id=project_id)
    initial = {"rpm_limit": project.rpm_limit, "tpm_limit": project.tpm_limit}
    form = RateLimitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rate_limits.set_project_rate_limits(
                project, limits_of(form), Actor.from_request(request)
            )
        except ActionError as e:
            add_action_error(form, e, {})
        else:
            messages.success(request, f"Rate limits of {project.name} were saved.")
            return redirect("dashboard:project", slug=membership.org.slug, project_id=project.id)
    context = {"form": form, "project": project}
    return render_org(
        request,
        membership,
        "dashboard/project_limits.html",
        context,
        section="projects",
        status=form_status(request),
    )
