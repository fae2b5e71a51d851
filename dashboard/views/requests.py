"""The request log page: what the proxy did with each request, metadata only."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse

from dashboard.decorators import org_view
from dashboard.views.common import render_org
from observability.models import RequestLog
from observability.trace_reader import has_trace
from tenants.models import Membership
from tenants.roles import Area
from tenants.scoping import for_org, get_for_org

PAGE_SIZE = 50


@org_view(Area.REQUESTS)
def request_log(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's requests, newest first, a page at a time."""
    rows = for_org(RequestLog.objects.all(), membership.org).order_by("-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_org(
        request, membership, "dashboard/requests.html", {"page": page}, section="requests"
    )


@org_view(Area.REQUESTS)
def request_detail(request: HttpRequest, membership: Membership, request_id: str) -> HttpResponse:
    """One request: its outcome, why it failed, and each attempt's outcome; metadata only."""
    row = get_for_org(RequestLog.objects.all(), membership.org, request_id=request_id)
    context: dict[str, object] = {"row": row}
    # Observability (lane A): link the trace viewer when a readable trace is kept.
    context["has_trace"] = has_trace(membership.org, row.request_id)
    return render_org(request, membership, "dashboard/request.html", context, section="requests")
