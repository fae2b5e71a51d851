"""Drain the proxy's usage stream into the request log, in batches, at least once.

A consumer group keeps each entry pending until its batch is committed, so
a worker that dies mid-batch loses nothing: the entries are claimed again
after CLAIM_IDLE_MS and re-inserted; the unique request_id makes that a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import redis
from django.db import transaction

from budgets.ledger import settled_entry
from budgets.models import LedgerEntry
from config.redis import get_redis
from gateway.proxy.usage import STREAM, UsageEvent
from observability.models import RequestLog

log = logging.getLogger(__name__)
GROUP = "request-log"
BATCH = 500
MAX_BATCHES = 40  # per task run, so one run stays short
CLAIM_IDLE_MS = 60_000


def _consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _ensure_group(client: redis.Redis) -> None:
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def row_from(event: UsageEvent) -> RequestLog:
    return RequestLog(
        request_id=event["request_id"],
        org_id=_uuid(event["org_id"]),
        project_id=_uuid(event["project_id"]),
        team_id=_uuid(event["team_id"]),
        key_id=_uuid(event["key_id"]),
        user_id=_uuid(event["user_id"]),
        created_at=datetime.fromtimestamp(event["ts"], tz=UTC),
        endpoint=event["endpoint"][:64],
        model_requested=(event["model_requested"] or "")[:200],
        model_dispatched=(event["model_dispatched"] or "")[:200],
        provider=(event["provider"] or "")[:32],
        deployment_id=(event["deployment_id"] or "")[:100],
        stream=event["stream"],
        status=event["status"],
        error_type=(event["error_type"] or "")[:64],
        input_tokens=event["input_tokens"],
        output_tokens=event["output_tokens"],
        cached_input_tokens=event["cached_input_tokens"],
        reasoning_tokens=event["reasoning_tokens"],
        latency_ms=event["latency_ms"],
        ttfb_ms=event["ttfb_ms"],
        cost_usd=_decimal(event["cost_usd"]),
        attempts=event["attempts"],
        client_disconnected=event["client_disconnected"],
    )


def _store(client: redis.Redis, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
    rows, ledger = [], []
    for _entry_id, fields in entries:
        try:
            event: UsageEvent = orjson.loads(fields[b"e"])
            rows.append(row_from(event))
            if event.get("windows"):
                ledger.append(settled_entry(event))
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError):
            # A malformed entry would block the stream forever; drop it loudly.
            log.error("dropping a malformed usage event")
    if rows:
        # The request log and the budget ledger commit together or not at all.
        with transaction.atomic():
            RequestLog.objects.bulk_create(rows, ignore_conflicts=True)
            # A reaped request's entry (its estimate) wins over a late settlement.
            LedgerEntry.objects.bulk_create(ledger, ignore_conflicts=True)
    ids = [entry_id for entry_id, _ in entries]
    # Acknowledge only after the commit; then delete, so the stream stays small.
    client.xack(STREAM, GROUP, *ids)
    client.xdel(STREAM, *ids)
    return len(rows)


def drain_usage_stream(
    client: redis.Redis | None = None, claim_idle_ms: int = CLAIM_IDLE_MS
) -> int:
    """Move every waiting usage event into the request log; return how many rows were written."""
    client = client or get_redis()
    _ensure_group(client)
    consumer = _consumer()
    written = 0
    # Entries another consumer took and never acknowledged (it died) come first.
    claimed: Any = client.xautoclaim(
        STREAM, GROUP, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=BATCH
    )
    if claimed and claimed[1]:
        written += _store(client, claimed[1])
    for _ in range(MAX_BATCHES):
        response: Any = client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=BATCH)
        if not response:
            break
        entries = response[0][1]
        if not entries:
            break
        written += _store(client, entries)
    return written
