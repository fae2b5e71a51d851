"""The request log keeps the error code from the usage event, when it reads like one."""

from __future__ import annotations

import pytest
import redis
from rest_framework.test import APIClient

from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona
from tests.factories.usage import push_usage, usage_event_of


@pytest.mark.parametrize("code", [None, "", 3, "No Key", "x" * 65, "no-key"])
def test_an_absent_or_odd_error_code_is_stored_blank(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis, code: object
) -> None:
    event = (
        usage_event_of(alice, status=503)
        if code is None
        else usage_event_of(alice, error_code=code)
    )
    push_usage(redis_client, event)
    assert drain_usage_stream(redis_client) == 1
    assert RequestLog.objects.get(request_id=event["request_id"]).error_code == ""
    assert alice_api.get("/api/v1/requests/").json()["data"][0]["error_code"] == ""
