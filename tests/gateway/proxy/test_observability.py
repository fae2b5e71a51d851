# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload"
"""Observability as a user meets it: the toggle, a real proxy, the drain, then the APIs that read.

Each lane of the work has its own tests; these follow one request across
all of them: web publishes the toggle and the day's data key, the proxy seals
the trace, the drain stores it with the log row and the day's rollup, and
the trace, request-log and usage APIs answer from what was stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis
from django.db.models import Count, Q, Sum

from observability.drain import drain_usage_stream
from observability.models import RequestLog, Trace
from tests.conftest import Persona
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _chat(gateway: Gateway, text: str, **extra: Any) -> str:
    """Send one chat request; return its request id."""
    response = gateway.openai().chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": text}], **extra
    )
    if extra.get("stream"):
        list(response.parse())  # read the stream to its end
    return str(response.headers["x-request-id"])


def _logged(redis_client: redis.Redis, request_id: str) -> None:
    """Drain until the request's row is in the log (the proxy flushes usage in the background)."""

    def written() -> bool:
        drain_usage_stream(redis_client)
        return RequestLog.objects.filter(request_id=request_id).exists()

    eventually(written, timeout_s=30, what=f"request {request_id} in the request log")


def _traced(gateway: Gateway, redis_client: redis.Redis, text: str) -> str | None:
    """Send a request, wait for its row; its id if the proxy kept a trace of it."""
    request_id = _chat(gateway, text)
    _logged(redis_client, request_id)
    return request_id if Trace.objects.filter(request_id=request_id).exists() else None


def test_turning_observability_on_keeps_a_trace_the_api_opens_and_off_keeps_none(
    gateway: Gateway, redis_client: redis.Redis
) -> None:
    off_id = _chat(gateway, "nothing of this is kept")
    _logged(redis_client, off_id)
    assert not Trace.objects.filter(request_id=off_id).exists()
    assert gateway.api.get(f"/api/v1/traces/{off_id}/").status_code == 404

    turned = gateway.api.put("/api/v1/observability/", {"enabled": True}, format="json")
    assert turned.status_code == 200, turned.content
    request_id = eventually(
        lambda: _traced(gateway, redis_client, "please keep this prompt"),
        timeout_s=30,
        what="a trace kept once the proxy follows the toggle",
    )
    answer = gateway.api.get(f"/api/v1/traces/{request_id}/")
    assert answer.status_code == 200, answer.content
    trace = answer.json()
    assert trace["request_id"] == request_id
    assert "please keep this prompt" in str(trace["request"])
    assert "Mock answer to:" in str(trace["response"])
    assert trace["truncated"] is False
    # Stored sealed: the prompt is not in the row's bytes.
    stored = bytes(Trace.objects.get(request_id=request_id).sealed)
    assert b"please keep this prompt" not in stored

    gateway.api.put("/api/v1/observability/", {"enabled": False}, format="json")
    eventually(
        lambda: _traced(gateway, redis_client, "off again") is None,
        timeout_s=30,
        what="no trace once the proxy follows the toggle back off",
    )


def test_usage_totals_equal_the_request_log_for_the_same_window(
    gateway: Gateway, redis_client: redis.Redis, alice: Persona
) -> None:
    sent = [_chat(gateway, f"question number {index}", stream=index % 2 == 0) for index in range(6)]
    # Refused ones count too: an alias the org does not have.
    for _ in range(2):
        refused = httpx.post(
            f"{gateway.proxy_url}/v1/chat/completions",
            headers={"authorization": f"Bearer {gateway.key}"},
            json={"model": "no-such-alias", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert refused.status_code >= 400
        sent.append(refused.headers["x-request-id"])
    for request_id in sent:
        _logged(redis_client, request_id)

    today = datetime.now(UTC).date()
    window = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    usage = gateway.api.get("/api/v1/usage/", {**window, "group_by": "day,model,status"})
    assert usage.status_code == 200, usage.content
    totals = usage.json()["totals"]

    logged = RequestLog.objects.filter(org=alice.org).aggregate(
        requests=Count("request_id"),
        errors=Count("request_id", filter=Q(status__gte=400)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("cost_usd"),
    )
    assert logged["requests"] == 8
    assert totals["requests"] == logged["requests"]
    assert totals["errors"] == logged["errors"] == 2
    assert totals["input_tokens"] == logged["input_tokens"]
    assert totals["output_tokens"] == logged["output_tokens"]
    assert Decimal(totals["cost_usd"]) == logged["cost"]
    assert sum(row["requests"] for row in usage.json()["rows"]) == logged["requests"]
