"""Drain the proxy's usage stream into the request log, in batches, at least once.

A consumer group keeps each entry pending until its batch is committed, so
a worker that dies mid-batch loses nothing: the entries are claimed again
after CLAIM_IDLE_MS and re-inserted; the unique request_id makes that a no-op.

A batch the database refuses is written again event by event, each log row
with its ledger entry in one transaction (both or neither); an event refused
alone is set aside on the dead-letter stream (observability.dead_letters)
and acknowledged, so one tenant's bad event never holds up another's log or
ledger. Only an unreachable database leaves a batch pending.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, TypedDict, cast

import orjson
import redis
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

from config.redis import RedisClient, get_redis
from gateway.budgets.ledger import settled_entry
from gateway.budgets.models import LedgerEntry
from gateway.models import Strategy
from gateway.pii_policy.models import Action
from gateway.shared.usage_event import STREAM, UsageEvent
from observability.dead_letters import MALFORMED, DeadLetter, set_aside
from observability.models import RequestLog

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
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")


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


def error_code_of(event: Mapping[str, object]) -> str:
    """The error's code if it reads like one of ours, else "" (optional: older events have none)."""
    given = event.get("error_code")
    return given if isinstance(given, str) and _ERROR_CODE.fullmatch(given) else ""


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
        error_code=error_code_of(cast(Mapping[str, object], event)),
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


# What a usage event that cannot be read raises on its way to a row.
# (AttributeError: valid JSON that is not an object.)
_MALFORMED_EVENT = (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError)
# The database is away, not refusing this data: the batch stays pending and is
# claimed again, rather than every event being set aside.
_DATABASE_AWAY = (OperationalError, InterfaceError)


class DrainStalled(Exception):
    """The database could not be reached; the batch stays pending and is claimed again later.

    Raised instead of the database's own error, whose message may quote an
    event's values, so Celery's failure log line carries none of them.
    """


@dataclass(frozen=True)
class _Pending:
    entry_id: bytes
    raw: bytes
    row: RequestLog
    ledger: LedgerEntry | None


def without_nul(value: Any) -> Any:
    """The decoded event with NUL characters removed from every string.

    PostgreSQL stores no NUL in text or jsonb; proxies refuse them in what a
    tenant sends, but an event written by an older proxy may still carry one,
    and its ledger entry (money) is worth more than a NUL in a model name.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def _read(entry_id: bytes, raw: bytes) -> _Pending:
    event: UsageEvent = orjson.loads(raw)
    # orjson writes a NUL as the escape \u0000: only such events need the walk.
    if b"\\u0000" in raw:
        event = without_nul(event)
    ledger = settled_entry(event) if event.get("windows") else None
    return _Pending(entry_id, raw, row_from(event), ledger)


def _write(events: list[_Pending]) -> None:
    """Write the events' log rows and ledger entries in one transaction: all or none."""
    with transaction.atomic():
        # Foreign keys are checked at each insert, not at commit, so a refused
        # event fails here, inside the block, whether or not it is nested.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        RequestLog.objects.bulk_create([event.row for event in events], ignore_conflicts=True)
        # A reaped request's entry (its estimate) wins over a late settlement.
        ledger = [event.ledger for event in events if event.ledger is not None]
        LedgerEntry.objects.bulk_create(ledger, ignore_conflicts=True)


def _write_each(events: list[_Pending]) -> list[DeadLetter]:
    """Write the events one by one, each row with its ledger entry; return those refused."""
    refused = []
    for event in events:
        try:
            _write([event])
        except _DATABASE_AWAY:
            raise
        except Exception as e:  # whatever the refusal, it must not block the stream
            refused.append(DeadLetter(event.entry_id, event.raw, type(e).__name__))
    return refused


def _store(client: RedisClient, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> int:
    """Write a batch; an event the database refuses is set aside, the others are written."""
    pending, letters = [], []
    for entry_id, fields in entries:
        raw = fields.get(b"e") if fields else None
        if raw is None:
            continue  # deleted while pending: nothing left to write or keep
        try:
            pending.append(_read(entry_id, raw))
        except _MALFORMED_EVENT:
            letters.append(DeadLetter(entry_id, raw, MALFORMED))
    written = len(pending)
    if pending:
        try:
            _write(pending)
        except _DATABASE_AWAY:
            raise
        except Exception:  # an event was refused: find it by writing each alone
            refused = _write_each(pending)
            written -= len(refused)
            letters += refused
    if letters:
        set_aside(client, letters)
    ids = [entry_id for entry_id, _ in entries]
    # Acknowledge only after the commit (and the setting aside); then delete,
    # so the stream stays small.
    client.xack(STREAM, GROUP, *ids)
    client.xdel(STREAM, *ids)
    return written


def _drain(client: RedisClient, claim_idle_ms: int) -> int:
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


def write_pending_settlements(sender: object, client: RedisClient, **_: object) -> None:
    """Drain the stream now: the ledger is about to be read (gateway.budgets.signals)."""
    drain_usage_stream(client)


def drain_usage_stream(
    client: RedisClient | None = None, claim_idle_ms: int = CLAIM_IDLE_MS
) -> int:
    """Move every waiting usage event into the request log; return how many rows were written."""
    try:
        return _drain(client or get_redis(), claim_idle_ms)
    except DatabaseError as e:
        # The database's message may quote an event; only its type goes on.
        raise DrainStalled(f"{type(e).__name__}; the batch stays pending") from None
