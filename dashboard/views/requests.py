"""The request log pages: filter, page, export and open what the proxy did, metadata only."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from dashboard.decorators import org_view
from dashboard.request_filters import RequestFilterForm
from dashboard.views.common import render_org
from observability.models import RequestLog
from observability.request_export import FORMATS, Labels, export_response
from observability.request_query import (
    RequestFilter,
    after,
    filtered,
    newest_first,
    page_of,
    read_cursor,
    read_filter,
)
from observability.trace_reader import has_trace
from tenants.errors import Invalid
from tenants.models import Membership
from tenants.roles import Area
from tenants.scoping import get_for_org

PAGE_SIZE = 50


def _filter_of(form: RequestFilterForm) -> RequestFilter | None:
    """The API filter the valid form asks for; None when the form is not valid."""
    if not form.is_valid():
        return None
    return read_filter(form.api_params())


@org_view(Area.REQUESTS)
def request_log(request: HttpRequest, membership: Membership) -> HttpResponse:
    """List the org's requests that match the filters, newest first, a page at a time."""
    org = membership.org
    form = RequestFilterForm(request.GET, org)
    wanted = _filter_of(form)
    problem = None
    try:
        cursor = read_cursor(request.GET)
    except Invalid as e:  # a cursor edited by hand: start from the newest again
        cursor, problem = None, e.message
    if wanted is None:
        return render_org(
            request,
            membership,
            "dashboard/requests.html",
            {"form": form, "rows": [], "problem": problem},
            section="requests",
            status=400,
        )
    page = page_of(org, wanted, cursor, PAGE_SIZE)
    keys = {row.key_id for row in page.rows if row.key_id is not None}
    labels = Labels(org, keys=keys)
    rows = [(row, labels.project(row.project_id), labels.key(row.key_id)) for row in page.rows]
    context = {
        "form": form,
        "rows": rows,
        "query": form.query(),
        "next_cursor": page.next_cursor,
        "first_page": cursor is None,
        "problem": problem,
        "formats": FORMATS,
    }
    return render_org(request, membership, "dashboard/requests.html", context, section="requests")


@org_view(Area.REQUESTS)
def export_requests(
    request: HttpRequest, membership: Membership
) -> HttpResponse | StreamingHttpResponse:
    """Stream every request that matches the filters as CSV or JSON Lines (?format=)."""
    org = membership.org
    export_format = request.GET.get("format", "csv")
    form = RequestFilterForm(request.GET, org)
    wanted = _filter_of(form)
    if export_format not in FORMATS or wanted is None:
        return HttpResponse(
            "Choose filters from the request log page and export again.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    rows = newest_first(after(filtered(org, wanted), org, None))
    return export_response(org, rows, export_format)


@org_view(Area.REQUESTS)
def request_detail(request: HttpRequest, membership: Membership, request_id: str) -> HttpResponse:
    """One request: its outcome, who answered, each attempt and the redactions; metadata only."""
    org = membership.org
    row = get_for_org(RequestLog.objects.all(), org, request_id=request_id)
    labels = Labels(org, keys={row.key_id} if row.key_id else set[uuid.UUID]())
    context = {
        "row": row,
        "project_name": labels.project(row.project_id),
        "key_label": labels.key(row.key_id),
        # Observability: link the trace viewer when a readable trace is kept.
        "has_trace": has_trace(org, row.request_id),
    }
    return render_org(request, membership, "dashboard/request.html", context, section="requests")
