"""Template context shared by every dashboard page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, object]:
    return {"auth_mode": settings.SELIXES_AUTH}
