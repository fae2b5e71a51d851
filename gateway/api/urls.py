from django.urls import path

from gateway.api import views

urlpatterns = [
    path("routes/", views.routes, name="api-routes"),
    # <path:…>: an alias may contain "/" ("openai/gpt-4o"); it is the last part of the URL.
    path("routes/<path:model>/", views.route_detail, name="api-route-detail"),
    path("provider-keys/", views.provider_keys, name="api-provider-keys"),
    path("provider-keys/<str:key_id>/", views.provider_key_detail, name="api-provider-key-detail"),
]
