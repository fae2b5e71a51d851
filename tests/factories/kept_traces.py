"""Traces as the proxy seals them (gateway.shared.traces) and the drain stores them, to read.

The proxy side (lane B) and the drain (lane C1) are not what these tests
check: a test seals a real payload with the org's real data key of the day,
exactly as the proxy does, and stores the raw bytes in a Trace row.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson

from gateway.shared.traces import TracePayload, new_data_key, seal_trace, trace_context
from observability.data_keys import open_data_key, seal_data_key
from observability.models import DataKey, RequestLog, Trace
from tenants.models import Organization

CHAT_REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say <b>hello</b> & wave"}],
}
CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! <script>"}}],
}


def data_key_of(org: Organization, day: date) -> bytes:
    """The org's clear data key of `day`, made (sealed, as web makes it) when missing."""
    row = DataKey.objects.filter(org=org, day=day).first()
    if row is None:
        row = DataKey.objects.create(
            org=org, day=day, sealed=seal_data_key(str(org.id), day, new_data_key())
        )
    return open_data_key(row)


def a_payload(**changes: Any) -> TracePayload:
    payload: TracePayload = {
        "request": CHAT_REQUEST,
        "response": CHAT_RESPONSE,
        "truncated": False,
    }
    payload.update(changes)  # type: ignore[typeddict-item]
    return payload


def kept_trace(
    org: Organization,
    payload: TracePayload | None = None,
    request_id: str | None = None,
    created_at: datetime | None = None,
) -> Trace:
    """Seal `payload` under the org's key of its UTC day and store it, as proxy and drain do."""
    moment = created_at or datetime.now(UTC)
    day = moment.astimezone(UTC).date()
    rid = request_id or uuid.uuid4().hex
    plaintext = orjson.dumps(payload or a_payload())
    sealed = seal_trace(
        data_key_of(org, day), plaintext, trace_context(str(org.id), day.isoformat(), rid)
    )
    # The envelope carries base64; the table keeps the raw nonce + ciphertext + tag.
    return Trace.objects.create(
        request_id=rid, org=org, created_at=moment, day=day, sealed=base64.b64decode(sealed)
    )


def logged_request(org: Organization, request_id: str, **changes: Any) -> RequestLog:
    """The request log row of a served request, as the drain writes it (metadata only)."""
    fields: dict[str, Any] = {
        "request_id": request_id,
        "org": org,
        "created_at": datetime.now(UTC),
        "endpoint": "/v1/chat/completions",
        "model_requested": "chat",
        "model_dispatched": "gpt-4o-mini",
        "provider": "openai",
        "status": 200,
        **changes,
    }
    return RequestLog.objects.create(**fields)
