from django.urls import path

from observability.api import usage, views

urlpatterns = [
    path("requests/", views.requests_log, name="api-requests"),
    path("usage/", usage.usage, name="api-usage"),
]
