from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("tenants.api.urls")),
    path("api/v1/", include("gateway.api.urls")),
    path("api/v1/", include("budgets.api.urls")),
    path("api/v1/", include("pii_policy.api.urls")),
    path("api/v1/", include("observability.api.urls")),
    path("webhooks/", include("tenants.identity.urls")),
    path("", include("dashboard.urls")),
]
