"""What every error answer of the management API looks like, checked in one place."""

from __future__ import annotations

import json
from typing import Any


def json_error(response: Any, status: int) -> dict[str, Any]:
    """Assert `response` is `status` in the documented JSON error shape; return its error."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "code", "param"}
    error: dict[str, Any] = body["error"]
    return error
