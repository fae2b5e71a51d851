"""Helpers shared by the org pages."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.models import Membership, Role


def render_org(
    request: HttpRequest,
    membership: Membership,
    template: str,
    context: Mapping[str, object] | None = None,
    *,
    section: str,
    status: int = 200,
) -> HttpResponse:
    """Render an org page inside the sidebar layout, with `section` highlighted in the nav."""
    page: dict[str, object] = {
        "membership": membership,
        "org": membership.org,
        "section": section,
        "is_admin": membership.role == Role.ADMIN,
        "is_billing": membership.role == Role.BILLING,
    }
    page.update(context or {})
    return render(request, template, page, status=status)


def form_status(request: HttpRequest) -> int:
    """Answer a re-rendered, invalid submission with 400 so it never reads as a success."""
    return 400 if request.method == "POST" else 200
