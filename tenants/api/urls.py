from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from tenants.api import views

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="api-schema",
    ),
    path("teams/", views.teams, name="api-teams"),
    path("projects/", views.projects, name="api-projects"),
    path("projects/<str:project_id>/", views.project_detail, name="api-project-detail"),
    path("keys/", views.keys, name="api-keys"),
    path("keys/<str:key_id>/", views.key_detail, name="api-key-detail"),
]
