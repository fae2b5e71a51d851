from django.urls import path

from gateway.pii_policy.api import views

urlpatterns = [
    path("pii-policy/", views.org_policy, name="api-pii-policy"),
    path(
        "projects/<str:project_id>/pii-policy/",
        views.project_policy,
        name="api-project-pii-policy",
    ),
]
