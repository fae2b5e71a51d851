"""What /api/v1/ answers when no endpoint does: the JSON error shape, never Django's HTML.

`unknown_endpoint` is the last URL pattern under /api/v1/, for any method;
the handler* functions replace Django's error pages for /api/ paths (a 404 or
400 raised outside DRF, a 500) and keep the HTML pages for everything else.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from tenants.errors import json_error

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _missing_slash(path: str) -> bool:
    """Whether `path` + "/" is a real endpoint (APPEND_SLASH cannot redirect a POST's body)."""
    if path.endswith("/"):
        return False
    try:
        match = resolve(path + "/")
    except Resolver404:
        return False
    return match.func is not unknown_endpoint


# No session, so no CSRF to check; exempt, or a POST would get the CSRF failure page.
@csrf_exempt
def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    message = "No such endpoint."
    if _missing_slash(request.path):
        message = f"No such endpoint; did you mean {request.path}/ ?"
    return json_error(404, message, "unknown_endpoint")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception or Exception())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error(400, "Bad request.", "bad_request")
    return defaults.bad_request(request, exception or Exception())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error(403, "Permission denied.", "permission_denied")
    return defaults.permission_denied(request, exception or Exception())


def server_error(request: HttpRequest) -> HttpResponse:
    # Never the exception's text: it may quote a body, a key or a query.
    if _is_api(request):
        return json_error(500, "Internal server error.", "internal_error")
    return defaults.server_error(request)
