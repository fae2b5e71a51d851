"""Webhook endpoints, mounted at /webhooks/."""

from django.urls import URLPattern, path

from tenants.identity.webhooks import clerk_webhook

urlpatterns: list[URLPattern] = [
    path("clerk/", clerk_webhook, name="clerk-webhook"),
]
