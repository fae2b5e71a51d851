"""Observability in the dashboard: the org's toggle (settings), a project's, the trace viewer."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dashboard.decorators import org_view
from dashboard.views.common import render_org
from observability import actions
from observability.trace_reader import TraceNotFound, TraceUnavailable, read_trace
from tenants.audit import Actor
from tenants.models import Membership, Organization, Project
from tenants.roles import Access, Area
from tenants.scoping import for_org, get_for_org

# What the project form's choices mean for Project.observability_enabled.
PROJECT_CHOICES: dict[str, bool | None] = {"org": None, "on": True, "off": False}


def _meaning() -> str:
    days = settings.RETENTION_DAYS
    return (
        "On: the proxy keeps each request's prompt and answer (after PII redaction) encrypted"
        f" for {days} days, so they can be viewed as traces; off (the default): they are"
        " processed in memory only and never stored."
    )


@org_view(Area.OBSERVABILITY, Access.WRITE)
@require_http_methods(["GET", "POST"])
def org_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The org's settings: whether its requests keep traces (projects may override)."""
    org = Organization.objects.get(id=membership.org_id)
    if request.method == "POST":
        wanted = request.POST.get("enabled")
        if wanted not in ("on", "off"):
            messages.error(request, "Choose on or off.")
            return render_org(
                request, membership, "dashboard/settings.html", _settings_context(org),
                section="settings", status=400,
            )  # fmt: skip
        actions.set_org_observability(org, wanted == "on", Actor.from_request(request))
        messages.success(request, f"Observability is {wanted} for {org.name}.")
        return redirect("dashboard:settings", slug=org.slug)
    return render_org(
        request, membership, "dashboard/settings.html", _settings_context(org), section="settings"
    )


def _settings_context(org: Organization) -> dict[str, Any]:
    overrides = for_org(Project.objects.all(), org).exclude(observability_enabled=None)
    return {
        "observability_on": org.observability_enabled,
        "observability_meaning": _meaning(),
        "overrides": overrides.order_by("name"),
    }


@org_view(Area.OBSERVABILITY, Access.WRITE)
@require_http_methods(["POST"])
def project_observability(
    request: HttpRequest, membership: Membership, project_id: str
) -> HttpResponse:
    """Set a project's own toggle, or have it follow the org's again."""
    project = get_for_org(Project.objects.all(), membership.org, id=project_id)
    choice = request.POST.get("observability", "")
    if choice not in PROJECT_CHOICES:
        messages.error(request, "Choose on, off or follow the organization.")
        return redirect("dashboard:project", slug=membership.org.slug, project_id=project.id)
    actor = Actor.from_request(request)
    enabled = PROJECT_CHOICES[choice]
    if enabled is None:
        actions.clear_project_observability(project, actor)
        messages.success(request, f"{project.name} follows the organization's observability.")
    else:
        actions.set_project_observability(project, enabled, actor)
        messages.success(request, f"Observability is {choice} for {project.name}.")
    return redirect("dashboard:project", slug=membership.org.slug, project_id=project.id)


def project_observability_context(project: Project) -> dict[str, Any]:
    """What the project page shows of its toggle (dashboard/project.html)."""
    state = actions.project_observability(project)
    return {
        "observability": state,
        "observability_choice": (
            "org" if not state.overridden else ("on" if state.enabled else "off")
        ),
        "observability_meaning": _meaning(),
    }


def _pretty(value: Any) -> str:
    """Indented JSON for a person; the template escapes it (payloads are untrusted text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@org_view(Area.REQUESTS)
def trace(request: HttpRequest, membership: Membership, request_id: str) -> HttpResponse:
    """Decrypt one request's trace for the person viewing it; the view is audited."""
    try:
        opened = read_trace(membership.org, request_id, Actor.from_request(request))
    except (TraceNotFound, TraceUnavailable) as e:
        problem = {"request_id": request_id, "problem": e.message, "code": e.code}
        return render_org(
            request, membership, "dashboard/trace.html", problem, section="requests", status=404
        )
    context: dict[str, object] = {
        "request_id": opened.request_id,
        "trace": opened,
        "request_json": _pretty(opened.request),
        "response_json": _pretty(opened.response),
    }
    response = render_org(request, membership, "dashboard/trace.html", context, section="requests")
    # Plaintext payloads: never kept by a browser or a proxy cache.
    response["Cache-Control"] = "no-store"
    return response
