from django.urls import include, path, re_path

from tenants.api import fallback

urlpatterns = [
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("gateway.api.urls")),
    path("api/v1/", include("gateway.budgets.api.urls")),
    path("api/v1/", include("gateway.pii_policy.api.urls")),
    path("api/v1/", include("observability.api.urls")),
    # Last under /api/: any other path (any method) is a JSON 404, never a dashboard page.
    re_path(r"^api/(?P<rest>.*)$", fallback.unknown_endpoint),
    path("webhooks/", include("tenants.identity.urls")),
    path("", include("dashboard.urls")),
]

handler400 = fallback.bad_request
handler403 = fallback.permission_denied
handler404 = fallback.not_found
handler500 = fallback.server_error
