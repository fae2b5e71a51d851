"""The Usage page: spend, traffic, tokens and latency of a window of days, charted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.decorators import org_view
from dashboard.usage_charts import usage_charts
from dashboard.views.common import render_org
from observability.usage import MAX_WINDOW_DAYS, UsageError, check_window
from tenants.models import Membership
from tenants.roles import Access, Area, may

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Window:
    """Days [since, until) in UTC; `last` is the inclusive end the page shows and the form holds."""

    since: date
    until: date
    preset: int | None  # 7, 30 or 90 when picked from the presets

    @property
    def last(self) -> date:
        return self.until - timedelta(days=1)


def _date(raw: str | None) -> date | None:
    if not raw or not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def window_of(request: HttpRequest, today: date) -> tuple[Window, str | None]:
    """The window the query asks for, or the default one and why the asked one was refused.

    `days=7|30|90` ends today; `from` and `to` are both included, as a person
    reads a date range (the API's `to` is exclusive; here it is that day + 1).
    """
    default = Window(today - timedelta(days=DEFAULT_DAYS - 1), today + timedelta(days=1), 30)
    if "from" in request.GET or "to" in request.GET:
        since, last = _date(request.GET.get("from")), _date(request.GET.get("to"))
        if since is None or last is None:
            return default, "Pick both dates of a custom window (YYYY-MM-DD)."
        try:
            until = last + timedelta(days=1)
        except OverflowError:  # 9999-12-31 has no next day
            return default, "Pick a last day before 9999-12-31."
        try:
            check_window(since, until)
        except UsageError:
            if last < since:
                return default, "The window's last day comes before its first."
            return default, f"A window spans at most {MAX_WINDOW_DAYS} days."
        return Window(since, until, None), None
    days = request.GET.get("days", str(DEFAULT_DAYS))
    if days not in {str(p) for p in PRESETS}:
        return default, None
    n = int(days)
    return Window(today - timedelta(days=n - 1), today + timedelta(days=1), n), None


@org_view(Area.REQUESTS)
def usage(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Chart the org's usage over the chosen window, from the daily rollups."""
    today = timezone.now().date()  # UTC: settings.TIME_ZONE
    window, problem = window_of(request, today)
    charts = usage_charts(membership.org, window.since, window.until)
    context = {
        "window": window,
        "presets": PRESETS,
        "problem": problem,
        "charts": charts,
        "today": today,
        "may_create_key": may(membership.role, Area.KEYS, Access.OWN),
    }
    return render_org(
        request,
        membership,
        "dashboard/usage.html",
        context,
        section="usage",
        status=400 if problem else 200,
    )
