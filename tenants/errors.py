"""Domain errors raised by actions, and the one error shape every JSON answer uses.

`{"error": {"message", "type", "code", "param"}}`: the OpenAI shape the proxy
answers too (CONTRACT.md section 5), so one client-side handler reads both.
"""

from __future__ import annotations

from django.http import JsonResponse

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_exceeded",
}
ErrorBody = dict[str, dict[str, str | None]]


def error_body(status: int, message: str, code: str, param: str | None = None) -> ErrorBody:
    """Return the documented error shape; the type follows from the status."""
    error_type = ERROR_TYPES.get(status, "api_error")
    return {"error": {"message": message, "type": error_type, "code": code, "param": param}}


def json_error(status: int, message: str, code: str, param: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(status, message, code, param), status=status)


class ActionError(Exception):
    """A request that cannot be carried out as asked."""

    status = 400
    code = "invalid"

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Invalid(ActionError):
    status = 400
    code = "invalid"


class NotFound(ActionError):
    """An id in the body names nothing this org has (another org's objects included)."""

    status = 404
    code = "not_found"


class Conflict(ActionError):
    status = 409
    code = "conflict"
