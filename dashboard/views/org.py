"""The org's overview and audit log."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.decorators import org_view
from dashboard.usage_charts import daily_charts
from dashboard.views.common import render_org
from observability.usage import this_month
from tenants.models import ApiKey, AuditEvent, Membership, Project, Team
from tenants.roles import Access, Area, may
from tenants.scoping import for_org

AUDIT_PAGE_SIZE = 50


@org_view(Area.OVERVIEW)
def overview(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Show the org at a glance: this month's spend and traffic, and what it has."""
    org = membership.org
    counts = {
        "members": for_org(Membership.objects.all(), org).count(),
        "teams": for_org(Team.objects.all(), org).count(),
        "projects": for_org(Project.objects.all(), org).count(),
        "keys": for_org(ApiKey.objects.all(), org).filter(revoked_at=None).count(),
    }
    recent_projects = for_org(Project.objects.select_related("team"), org).order_by("-created_at")[
        :5
    ]
    # This month's spend and traffic, from the daily rollups (observability.usage).
    since, until = this_month(timezone.now().date())
    totals, daily = daily_charts(org, since, until)
    context = {
        "counts": counts,
        "recent_projects": recent_projects,
        "month": {"since": since, "totals": totals},
        "daily": daily,
        "may_read_usage": may(membership.role, Area.REQUESTS, Access.READ),
    }
    return render_org(request, membership, "dashboard/overview.html", context, section="overview")


@org_view(Area.AUDIT)
def audit_log(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's audit events, newest first, a page at a time."""
    events = for_org(AuditEvent.objects.all(), membership.org).order_by("-created_at", "-id")
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render_org(request, membership, "dashboard/audit.html", {"page": page}, section="audit")
