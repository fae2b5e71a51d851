"""Drain the proxy's usage stream into the request log, rollups, traces and ledger, at least once.

A consumer group keeps each entry pending until its batch is committed, so
a worker that dies mid-batch loses nothing: the entries are claimed again
after CLAIM_IDLE_MS and written again; the request log's unique
(request_id, created_at) makes that a no-op, and rollups add only the rows
actually inserted, so a replay counts once (observability.drain_write).

Each batch is one transaction: log rows (day-partitioned), their traces, the
rollups and the ledger entries, all or none. The days it needs get their
partition first, in a short transaction of their own (observability.partitions);
an event of a day before the retention's cutoff is dropped and counted
(no per-request row older than the retention may exist), though its ledger
entry is still booked: it is money, and gateway.budgets compacts old entries
into per-day totals.

A batch the database refuses is split in halves and each half written alone,
down to single events; an event refused alone is set aside on the
dead-letter stream (observability.dead_letters) and acknowledged, so one
tenant's bad event never holds up another's log or ledger. Only an
unreachable database leaves a batch pending.
"""

from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import redis
from django.db import DatabaseError, InterfaceError, OperationalError

from config.redis import RedisClient, get_redis
from gateway.proxy.metrics import USAGE_EVENTS_EXPIRED
from gateway.shared.usage_event import STREAM
from observability import partitions
from observability.dead_letters import MALFORMED, DeadLetter, set_aside
from observability.drain_write import write_batch
from observability.usage_rows import UsageRow, usage_row

log = logging.getLogger(__name__)
GROUP = "request-log"
# A batch is up to BATCH events (one transaction: larger batches write faster,
# measured with make bench-drain) and about BATCH_BYTES of them: an event with
# a full trace is ~700 KB, and a batch of those must not take gigabytes of the
# worker's memory. The stream is read in chunks sized from what came before.
BATCH = 5000
BATCH_BYTES = 32 * 1024 * 1024
CHUNK = 500
MAX_BATCHES = 8  # per task run, so one run stays short
CLAIM_IDLE_MS = 60_000
# An event dated further ahead than this is not ours to keep (a proxy's clock
# gone wrong): its row would outlive the retention by as long.
MAX_FUTURE_DAYS = 7
# Days known to have their partitions, so a batch does not ask the catalog;
# forgotten whenever a batch is refused (a partition may have been dropped).
_ready_days: set[date] = set()


def _consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _ensure_group(client: RedisClient) -> None:
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise


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


@dataclass(frozen=True, slots=True)
class _Entry:
    entry_id: bytes
    raw: bytes
    row: UsageRow


def _with_partitions(rows: list[UsageRow], today: date) -> set[str]:
    """Make sure the rows' days have partitions; return the request ids whose log row is kept."""
    cutoff = partitions.retention_cutoff(today)
    kept = {row.request_id for row in rows if row.day >= cutoff}
    missing = {row.day for row in rows if row.day >= cutoff} - _ready_days
    for day in sorted(missing):
        partitions.ensure_partitions(day, day)
        _ready_days.add(day)
    return kept


def _write_halves(entries: list[_Entry], today: date) -> list[DeadLetter]:
    """Write the entries, a refused batch in halves (recursively); return those refused alone."""
    rows = [entry.row for entry in entries]
    try:
        write_batch(rows, _with_partitions(rows, today))
        return []
    except _DATABASE_AWAY:
        raise
    except Exception as e:  # whatever the refusal, it must not block the stream
        _ready_days.clear()  # a partition may have gone (a purge): ask the catalog again
        if len(entries) == 1:
            return [DeadLetter(entries[0].entry_id, entries[0].raw, type(e).__name__)]
    middle = len(entries) // 2
    return _write_halves(entries[:middle], today) + _write_halves(entries[middle:], today)


def _too_far(row: UsageRow, today: date) -> bool:
    return row.day > today + timedelta(days=MAX_FUTURE_DAYS)


@dataclass(frozen=True, slots=True)
class _Batch:
    ids: list[bytes]  # every entry read, acknowledged once the batch is written
    pending: list[_Entry]
    letters: list[DeadLetter]


def _parse(entries: list[tuple[bytes, dict[bytes, bytes] | None]], today: date) -> _Batch:
    """Read a batch's events; those that cannot be read are set aside."""
    pending: list[_Entry] = []
    letters: list[DeadLetter] = []
    seen: set[str] = set()
    for entry_id, fields in entries:
        raw = fields.get(b"e") if fields else None
        if raw is None:
            continue  # deleted while pending: nothing left to write or keep
        try:
            row = usage_row(raw)
        except _MALFORMED_EVENT:
            letters.append(DeadLetter(entry_id, raw, MALFORMED))
            continue
        if _too_far(row, today):
            letters.append(DeadLetter(entry_id, raw, MALFORMED))
        elif row.request_id not in seen:  # written twice in one batch: once is enough
            seen.add(row.request_id)
            pending.append(_Entry(entry_id, raw, row))
    return _Batch([entry_id for entry_id, _ in entries], pending, letters)


def _store(client: RedisClient, batch: _Batch, today: date) -> int:
    """Write a batch; an event the database refuses is set aside, the others are written."""
    letters = list(batch.letters)
    written = 0
    if batch.pending:
        refused = _write_halves(batch.pending, today)
        letters += refused
        cutoff = partitions.retention_cutoff(today)
        expired = sum(1 for entry in batch.pending if entry.row.day < cutoff)
        if expired:
            USAGE_EVENTS_EXPIRED.inc(expired)
        written = len(batch.pending) - len(refused) - expired
    if letters:
        set_aside(client, letters)
    # Acknowledge only after the commit (and the setting aside); then delete,
    # so the stream stays small.
    client.xack(STREAM, GROUP, *batch.ids)
    client.xdel(STREAM, *batch.ids)
    return written


def _entry_bytes(entry: tuple[bytes, dict[bytes, bytes] | None]) -> int:
    _, fields = entry
    return sum(len(value) for value in fields.values()) if fields else 0


def read_batch(
    client: RedisClient, consumer: str, today: date, max_bytes: int = BATCH_BYTES
) -> _Batch | None:
    """The next batch of new entries, read and parsed; None when the stream has none.

    At most BATCH entries, and no more chunks once `max_bytes` are read: one
    entry first, then each chunk asks for as many as the bytes left allow at
    the average size seen so far, so a batch of alike events overshoots the
    budget by about one entry (one round trip more per batch, for bounded memory).
    """
    entries: list[tuple[bytes, dict[bytes, bytes] | None]] = []
    size = 0
    while len(entries) < BATCH and size < max_bytes:
        if entries:
            average = max(1, size // len(entries))
            count = max(1, min(CHUNK, BATCH - len(entries), (max_bytes - size) // average))
        else:
            count = 1  # the first entry tells the size of what is waiting
        response: Any = client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count)
        chunk = response[0][1] if response else []
        if not chunk:
            break
        entries += chunk
        size += sum(map(_entry_bytes, chunk))
    return _parse(entries, today) if entries else None


def _drain(client: RedisClient, claim_idle_ms: int, today: date) -> int:
    _ensure_group(client)
    consumer = _consumer()
    written = 0
    # Entries another consumer took and never acknowledged (it died) come first.
    claimed: Any = client.xautoclaim(
        STREAM, GROUP, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=CHUNK
    )
    if claimed and claimed[1]:
        written += _store(client, _parse(claimed[1], today), today)
    # The next batch is read and parsed in a second thread while this one is
    # written: parsing is the worker's CPU, writing mostly waiting for
    # PostgreSQL (the GIL is released), so one process does both at once.
    # A batch read ahead is pending like any other: if this run dies, it is
    # claimed again; the last turn reads nothing ahead, so none is left behind.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drain-read") as reader:
        upcoming: Future[_Batch | None] | None = reader.submit(read_batch, client, consumer, today)
        for turn in range(MAX_BATCHES):
            if upcoming is None or (batch := upcoming.result()) is None:
                break
            ahead = turn + 1 < MAX_BATCHES
            upcoming = reader.submit(read_batch, client, consumer, today) if ahead else None
            written += _store(client, batch, today)
    return written


def write_pending_settlements(sender: object, client: RedisClient, **_: object) -> None:
    """Drain the stream now: the ledger is about to be read (gateway.budgets.signals)."""
    drain_usage_stream(client)


def drain_usage_stream(
    client: RedisClient | None = None,
    claim_idle_ms: int = CLAIM_IDLE_MS,
    today: date | None = None,
) -> int:
    """Move every waiting usage event into the request log; return how many were written.

    Written: logged now or before (a replay), not set aside nor past the
    retention. `today` (UTC) is for tests that drive the clock.
    """
    try:
        return _drain(client or get_redis(), claim_idle_ms, today or partitions.today_utc())
    except DatabaseError as e:
        # The database's message may quote an event; only its type goes on.
        raise DrainStalled(f"{type(e).__name__}; the batch stays pending") from None
