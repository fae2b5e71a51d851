"""Open one stored trace for a person who asked to see it: the only place plaintext exists again.

A trace is found by org and request id (another org's reads as missing), its
data key by org and day; the key is opened with SELIXES_MASTER_KEYS and the
trace with it (gateway.shared.traces, AAD = org, day, request). Two ways to
fail, both a 404 to the caller but with different codes:

- trace_not_found: nothing to read. No row (observability was off, the
  request is unknown, or retention dropped it), or no data key for its day
  (shredded by retention or a GDPR deletion).
- trace_unavailable: the trace is kept but cannot be opened here: the master
  key that sealed its data key is no longer configured, or a ciphertext does
  not open (tampered, copied from elsewhere). An operator can fix the first by
  putting the old master key back; never a 500.

Every successful read is audited (who, which request id; never the payload).
The plaintext lives in the returned object only, for the answer being built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from gateway.shared.crypto import CryptoError
from gateway.shared.traces import TraceUnreadable, open_trace, trace_context
from observability.data_keys import open_data_key
from observability.models import DataKey, Trace
from tenants import audit
from tenants.audit import Actor
from tenants.errors import NotFound
from tenants.models import Organization

log = logging.getLogger(__name__)


REQUEST_ID_MAX = Trace._meta.get_field("request_id").max_length or 32


class TraceNotFound(NotFound):
    code = "trace_not_found"


class TraceUnavailable(NotFound):
    code = "trace_unavailable"


@dataclass(frozen=True)
class OpenedTrace:
    """A decrypted trace: CONTRACT.md section 4's shape for GET /api/v1/traces/{id}/."""

    request_id: str
    created_at: datetime
    request: Any
    response: Any
    truncated: bool


NOT_KEPT = (
    "No trace is kept for this request: observability was off for it, or it has passed the"
    " retention period, or its data was deleted."
)
UNAVAILABLE = (
    "This trace is stored but cannot be decrypted: the master key that protects it is no"
    " longer configured (SELIXES_MASTER_KEYS), or the stored data does not open."
)


def find_trace(org: Organization, request_id: str) -> Trace | None:
    """The org's trace row of this request, if one is kept (metadata only, nothing opened)."""
    if len(request_id) > REQUEST_ID_MAX or "\x00" in request_id:
        return None  # no request has such an id; PostgreSQL could not even compare a NUL
    return Trace.objects.filter(org=org, request_id=request_id).order_by("-created_at").first()


def has_trace(org: Organization, request_id: str) -> bool:
    """Whether a trace of this request is kept and its day's key still exists (not shredded)."""
    row = find_trace(org, request_id)
    return row is not None and DataKey.objects.filter(org=org, day=row.day).exists()


def read_trace(org: Organization, request_id: str, actor: Actor) -> OpenedTrace:
    """Open the org's trace of `request_id`, audit the read; else TraceNotFound or -Unavailable."""
    row = find_trace(org, request_id)
    if row is None:
        raise TraceNotFound(None, NOT_KEPT)
    data_key_row = DataKey.objects.filter(org=org, day=row.day).first()
    if data_key_row is None:
        raise TraceNotFound(None, NOT_KEPT)
    day = row.day.isoformat()
    try:
        data_key = open_data_key(data_key_row)
        plaintext = open_trace(
            data_key, bytes(row.sealed), trace_context(str(org.id), day, row.request_id)
        )
        payload = orjson.loads(plaintext)
    except (CryptoError, TraceUnreadable, orjson.JSONDecodeError) as e:
        # The reason (e.g. which master key id is missing) is for operators; never the payload.
        log.warning("trace of request %s (org %s) does not open: %s", row.request_id, org.id, e)
        raise TraceUnavailable(None, UNAVAILABLE) from e
    if not isinstance(payload, dict) or not {"request", "response"} <= payload.keys():
        log.warning("trace of request %s (org %s) is not a trace payload", row.request_id, org.id)
        raise TraceUnavailable(None, UNAVAILABLE)
    audit.record(org, actor, "trace.viewed", row, target_label=f"trace of request {row.request_id}")
    return OpenedTrace(
        request_id=row.request_id,
        created_at=row.created_at,
        request=payload["request"],
        response=payload["response"],
        truncated=bool(payload.get("truncated", False)),
    )
