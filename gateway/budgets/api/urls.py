from django.urls import path

from gateway.budgets.api import views

urlpatterns = [
    path("budgets/", views.budgets, name="api-budgets"),
    path("budgets/<str:budget_id>/", views.budget_detail, name="api-budget-detail"),
    path("budget-settings/", views.budget_settings, name="api-budget-settings"),
]
