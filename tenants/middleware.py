"""Refuse oversized request bodies with 413 before anything parses them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tenants.errors import json_error


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_big = int(length) > settings.MAX_BODY_BYTES
        except ValueError:
            too_big = True
        if too_big:
            message = f"Request body exceeds {settings.MAX_BODY_BYTES} bytes."
            return json_error(413, message, "body_too_large")
        return self.get_response(request)
