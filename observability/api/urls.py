from django.urls import path

from observability.api import toggle, traces, usage, views

urlpatterns = [
    path("requests/", views.requests_log, name="api-requests"),
    path("observability/", toggle.org_observability, name="api-observability"),
    path(
        "projects/<str:project_id>/observability/",
        toggle.project_observability,
        name="api-project-observability",
    ),
    path("traces/<str:request_id>/", traces.trace_detail, name="api-trace"),
    path("usage/", usage.usage, name="api-usage"),
]
