"""Domain errors raised by actions; views and the API turn them into 4xx answers."""

from __future__ import annotations


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


class Conflict(ActionError):
    status = 409
    code = "conflict"
