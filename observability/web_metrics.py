"""Web's metrics: requests by view and status, and their duration, on an internal port.

Served like the proxy's (gateway.shared.metrics_port): on SELIXES_WEB_METRICS_PORT
(loopback unless SELIXES_WEB_METRICS_HOST says otherwise), never on web's own
port, where every tenant's browser and API client is. The first gunicorn
worker to import config.wsgi binds it; with PROMETHEUS_MULTIPROC_DIR (its
own directory in `make run`) its scrape sums every worker's counts. Unset
port: no server (tests and `manage.py` commands start none).

Labels: the URL pattern's name (`view`: a fixed set, from the URLconf; a path
that resolves to none is "unresolved"), the method, and the status code.
Never the path itself: it holds object ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.shared import metrics_port

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "selixes_web_requests",
    "Requests web answered, by view, method and status.",
    ["view", "method", "status"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "selixes_web_request_duration_seconds",
    "Time web took to answer, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
UNRESOLVED = "unresolved"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return match.view_name or UNRESOLVED


class MetricsMiddleware:
    """Count and time every request; outermost, so a refusal by any middleware counts too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        DURATION.labels(view, method).observe(time.perf_counter() - started)
        return response


def serve_from_settings() -> WSGIServer | None:
    """Serve web's scrape if SELIXES_WEB_METRICS_PORT is set; None otherwise or if taken."""
    port = settings.WEB_METRICS_PORT
    if not port:
        return None
    registry = metrics_port.scrape_registry(settings.PROMETHEUS_MULTIPROC_DIR, local=[REGISTRY])
    return metrics_port.serve(settings.WEB_METRICS_HOST, port, registry, "web")
