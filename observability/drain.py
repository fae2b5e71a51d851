"""Drain the proxy's usage stream into the request log, in batches, at least once.

A consumer group keeps each entry pending until its batch is committed, so
a worker that dies mid-batch loses nothing: the entries are claimed again
after CLAIM_IDLE_MS and re-inserted; the unique request_id makes that a no-op.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, TypedDict, cast

import orjson
import redis
from django.db import transaction

from budgets.ledger import settled_entry
from budgets.models import LedgerEntry
from config.redis import RedisClient, get_redis
from gateway.models import Strategy
from gateway.proxy.usage import STREAM, UsageEvent
from observability.models import RequestLog
from pii_policy.models import Action

log = logging.getLogger(__name__)
GROUP = "request-log"
BATCH = 500
MAX_BATCHES = 40  # per task run, so one run stays short
CLAIM_IDLE_MS = 60_000
MAX_REDACTIONS = 64
MAX_COUNT = 2**31 - 1
WHERE = ("prompt", "answer")
# Entity types, built-in or a tenant's pattern name: never free text, which could be a value.
_ENTITY = re.compile(r"[A-Z][A-Z0-9_]*")
_DETECTOR = re.compile(r"[A-Za-z0-9_.:-]+")


class Redaction(TypedDict):
    """One line of a request's PII audit: how many of a type, what was done, where."""

    entity: str
    action: str  # mask | pseudonymize | block | allow
    count: int
    detector: str
    where: str  # prompt | answer


def _consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _ensure_group(client: RedisClient) -> None:
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


def _text(value: object, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _redaction(item: object) -> Redaction | None:
    """One item as the log keeps it, or None when it is not of the documented shape."""
    if not isinstance(item, dict):
        return None
    entity, detector = _text(item.get("entity"), 64), _text(item.get("detector"), 64)
    action, where, count = item.get("action"), item.get("where"), item.get("count")
    if entity is None or not _ENTITY.fullmatch(entity):
        return None
    if detector is None or not _DETECTOR.fullmatch(detector):
        return None
    if action not in Action.values or where not in WHERE:
        return None
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= MAX_COUNT:
        return None
    return {
        "entity": entity,
        "action": str(action),
        "count": count,
        "detector": detector,
        "where": str(where),
    }


def redactions_of(event: Mapping[str, object]) -> list[Redaction]:
    """The event's redaction counts, items of the wrong shape dropped, at most MAX_REDACTIONS.

    Optional (events from before the PII stage have none) and checked item by
    item: a bad item must neither block the stream nor put a value, rather
    than a count, into the log.
    """
    given = event.get("redactions")
    if not isinstance(given, list):
        return []
    kept = (redaction for redaction in map(_redaction, given) if redaction is not None)
    return list(islice(kept, MAX_REDACTIONS))


def strategy_of(event: Mapping[str, object]) -> str:
    """The route's strategy if it is one of ours, else "" (optional: older events have none)."""
    given = event.get("strategy")
    return given if isinstance(given, str) and given in Strategy.values else ""


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
        strategy=strategy_of(cast(Mapping[str, object], event)),
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
        redactions=redactions_of(cast(Mapping[str, object], event)),
    )


def _store(client: RedisClient, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
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
    client: RedisClient | None = None, claim_idle_ms: int = CLAIM_IDLE_MS
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
