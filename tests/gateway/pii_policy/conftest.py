"""Helpers for the PII policy tests: request bodies, the API calls, the published snapshot."""

from __future__ import annotations

from typing import Any

import orjson
import redis
from rest_framework.test import APIClient

from gateway.shared.snapshot import snapshot_key
from tenants.models import Organization

ORG_URL = "/api/v1/pii-policy/"


def project_url(project_id: object) -> str:
    return f"/api/v1/projects/{project_id}/pii-policy/"


def a_policy(**overrides: Any) -> dict[str, Any]:
    """A policy using each action, NER included, and one custom pattern, as the API takes it."""
    return {
        "enabled": True,
        "entities": {
            "EMAIL": "mask",
            "PERSON": "pseudonymize",
            "CREDIT_CARD": "block",
            "IP_ADDRESS": "allow",
        },
        "custom_patterns": [{"name": "EMPLOYEE_ID", "regex": r"EMP-[0-9]{6}", "action": "mask"}],
        "restore_in_response": True,
        **overrides,
    }


def put(api: APIClient, body: Any, url: str = ORG_URL) -> Any:
    return api.put(url, body, format="json")


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def stored_snapshot(client: redis.Redis, org: Organization) -> dict[str, Any]:
    raw = client.hget(snapshot_key(str(org.id)), "body")
    assert raw is not None
    snapshot: dict[str, Any] = orjson.loads(raw)
    return snapshot
