"""Sealed traces and data keys as the proxy and web make them (gateway.shared.traces)."""

from __future__ import annotations

import base64
from datetime import date

import orjson

from gateway.sealing import master_keys
from gateway.shared.crypto import data_key_context
from gateway.shared.traces import TraceEnvelope, new_data_key, seal_trace, trace_context
from observability.models import DataKey
from tenants.models import Organization


def data_key_of(org: Organization, day: date) -> bytes:
    """A fresh data key of the org's day, stored sealed as web stores it; the key itself."""
    key = new_data_key()
    sealed = master_keys().seal(key, data_key_context(str(org.id), day.isoformat()))
    DataKey.objects.create(org=org, day=day, sealed=sealed)
    return key


def stored_data_key(org: Organization, day: date) -> bytes | None:
    """The org's data key of the day opened from its row, or None once it was shredded."""
    row = DataKey.objects.filter(org=org, day=day).first()
    if row is None:
        return None
    return master_keys().open(row.sealed, data_key_context(str(org.id), day.isoformat()))


def sealed_trace(
    key: bytes, org: Organization, day: date, request_id: str, request: object = None
) -> TraceEnvelope:
    """The envelope the proxy puts on the usage event of `request_id`."""
    payload = {"request": request or {"model": "gpt-demo"}, "response": {}, "truncated": False}
    context = trace_context(str(org.id), day.isoformat(), request_id)
    return {"day": day.isoformat(), "sealed": seal_trace(key, orjson.dumps(payload), context)}


def sealed_bytes(envelope: TraceEnvelope) -> bytes:
    return base64.b64decode(envelope["sealed"])
