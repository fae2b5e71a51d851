from django.urls import path

from observability.api import views

urlpatterns = [path("requests/", views.requests_log, name="api-requests")]
