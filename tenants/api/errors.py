"""Turn every API failure into the documented error shape (tenants.errors.error_body)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from tenants.errors import ActionError, error_body


def _first_error(detail: Any, path: str | None = None) -> tuple[str | None, str, str]:
    """Return (param, message, code) of the first validation error in DRF's nested detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key == "non_field_errors" else str(key)
            param = f"{path}.{name}" if path and name else (name or path)
            return _first_error(value, param)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], path)
    code = getattr(detail, "code", "invalid")
    return path, str(detail), str(code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ActionError):
        return Response(error_body(exc.status, exc.message, exc.code, exc.field), status=exc.status)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return Response(error_body(404, "Not found.", "not_found"), status=404)
    if isinstance(exc, exceptions.ValidationError):
        param, message, code = _first_error(exc.detail)
        return Response(error_body(400, message, code, param), status=400)
    if isinstance(exc, exceptions.ParseError):
        return Response(error_body(400, str(exc.detail), "invalid_json"), status=400)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response = Response(
            error_body(exc.status_code, str(exc.detail), code), status=exc.status_code
        )
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    return None
