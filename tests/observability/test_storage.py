"""The drain writes day partitions, traces as sent, and rollups that count each request once.

Events travel as a proxy writes them (the usage stream on the real Redis)
into the real PostgreSQL; the clock is driven by the event's ts and the
drain's `today`.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from prometheus_client import generate_latest

from gateway.budgets.ledger import settled_entry
from gateway.budgets.models import LedgerEntry
from gateway.proxy.metrics import SCRAPE
from gateway.shared.traces import open_trace, trace_context
from gateway.shared.usage_event import STREAM, UsageEvent
from observability import drain, partitions
from observability.dead_letters import DEAD_LETTERS
from observability.drain import MAX_FUTURE_DAYS, drain_usage_stream
from observability.latency_histogram import BUCKETS, histogram_of
from observability.models import RequestLog, Trace, UsageRollup
from tests.conftest import Persona
from tests.factories.traces import data_key_of, sealed_bytes, sealed_trace
from tests.factories.usage import entries_of, push_usage, usage_event_of


def _ts(day: date, seconds: int = 3600) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + seconds


def _partition_of(request_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM observability_requestlog WHERE request_id = %s",
            [request_id],
        )
        return str(cursor.fetchone()[0])


def _counter(name: str, labels: str = "") -> float:
    series = f"{name}{labels} "
    lines = [
        line for line in generate_latest(SCRAPE).decode().splitlines() if line.startswith(series)
    ]
    return float(lines[0].removeprefix(series)) if lines else 0.0


def _rollup_of(persona: Persona) -> UsageRollup:
    return UsageRollup.objects.get(org=persona.org)


def test_the_drain_writes_each_row_into_its_days_partition(
    alice: Persona, redis_client: redis.Redis
) -> None:
    today = partitions.today_utc()
    two_days_ago = today - timedelta(days=2)
    recent = usage_event_of(alice, ts=_ts(today, 60))
    older = usage_event_of(alice, ts=_ts(two_days_ago, 86_000))
    for event in (recent, older):
        push_usage(redis_client, event)

    assert drain_usage_stream(redis_client) == 2

    assert _partition_of(recent["request_id"]) == f"observability_requestlog_p{today:%Y%m%d}"
    assert _partition_of(older["request_id"]) == (
        f"observability_requestlog_p{two_days_ago:%Y%m%d}"
    )


def test_a_replayed_event_counts_once_in_the_rollups(
    alice: Persona, redis_client: redis.Redis
) -> None:
    event = usage_event_of(alice, input_tokens=100, output_tokens=7, cost_usd="0.002500")
    push_usage(redis_client, event)
    drain_usage_stream(redis_client)
    # A proxy retried its XADD, and a dead worker's batch is claimed again.
    push_usage(redis_client, event)
    push_usage(redis_client, event)
    drain_usage_stream(redis_client, claim_idle_ms=0)

    rollup = _rollup_of(alice)
    assert (rollup.requests, rollup.input_tokens, rollup.output_tokens) == (1, 100, 7)
    assert rollup.cost_nano == 2_500_000
    assert sum(rollup.latency_hist) == 1
    assert RequestLog.objects.filter(request_id=event["request_id"]).count() == 1


def _varied_events(alice: Persona, charlie: Persona) -> list[UsageEvent]:
    today = partitions.today_utc()
    keys = [str(uuid.uuid4()) for _ in range(3)]
    events = []
    for i in range(60):
        persona = charlie if i % 7 == 0 else alice
        failed = i % 5 == 0
        changes: dict[str, Any] = {
            "ts": _ts(today - timedelta(days=i % 3), 60 * i),
            "key_id": keys[i % 3],
            "model_requested": "gpt-demo" if i % 2 else "claude-demo",
            "model_dispatched": None if failed else ("gpt-4o-mini" if i % 2 else "claude-haiku"),
            "status": (502, 429)[i % 2] if failed else 200,
            "input_tokens": 10 * i,
            "output_tokens": 3 * i + 1,
            "cached_input_tokens": i % 4,
            "reasoning_tokens": i % 3,
            "latency_ms": 7 * i * i,
            # More decimals than the log keeps: both round the same way.
            "cost_usd": f"0.{i:03d}1234567" if i % 4 else None,
            "platform_fee_usd": "0.0000105" if i % 3 == 0 else None,
            "task": "code" if i % 6 == 0 else None,
        }
        events.append(usage_event_of(persona, **changes))
    events.append(usage_event_of(None, status=401, error_type="authentication_error"))
    return events


def test_the_rollups_total_what_the_log_holds(
    alice: Persona, charlie: Persona, redis_client: redis.Redis
) -> None:
    events = _varied_events(alice, charlie)
    for event in events:
        push_usage(redis_client, event)

    assert drain_usage_stream(redis_client) == len(events)

    from_log: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0] * 9 + [[]])
    for row in RequestLog.objects.exclude(org=None):
        model = row.model_dispatched or row.model_requested
        key = (row.org_id, row.created_at.date(), row.project_id, row.key_id, row.user_id,
               model, row.provider, row.status, row.task)  # fmt: skip
        sums = from_log[key]
        values = (1, int(row.status >= 400), row.input_tokens, row.output_tokens,
                  row.cached_input_tokens, row.reasoning_tokens,
                  int((row.cost_usd or Decimal(0)) * 10**9),
                  int((row.platform_fee_usd or Decimal(0)) * 10**9))  # fmt: skip
        for i, value in enumerate(values):
            sums[i] += value
        sums[9].append(row.latency_ms)
    from_rollups = {}
    for r in UsageRollup.objects.all():
        key = (r.org_id, r.day, r.project_id, r.key_id, r.user_id, r.model, r.provider,
               r.status, r.task)  # fmt: skip
        from_rollups[key] = [
            r.requests, r.errors, r.input_tokens, r.output_tokens, r.cached_input_tokens,
            r.reasoning_tokens, r.cost_nano, r.platform_fee_nano, 0, r.latency_hist,
        ]  # fmt: skip
    expected = {key: [*sums[:9], histogram_of(sums[9])] for key, sums in from_log.items()}
    assert from_rollups == expected
    assert len(from_rollups) > 10  # many groups, over three days and two orgs
    assert all(len(r.latency_hist) == BUCKETS for r in UsageRollup.objects.all())


def test_the_new_metadata_lands_in_its_columns_and_the_rollups(
    alice: Persona, redis_client: redis.Redis
) -> None:
    answered = usage_event_of(
        alice, routing_version=812, task="code", platform_fee_usd="0.000042",
        model_requested="smart", model_dispatched="gpt-4o-mini",
    )  # fmt: skip
    answered["attempts"] = [
        {"deployment_id": "r1:0", "provider": "anthropic", "model": "claude", "outcome": "http_503",
         "latency_ms": 40, "endpoint": "api.anthropic.com", "health": "closed"},
        {"deployment_id": "r1:1", "provider": "openai", "model": "gpt-4o-mini", "outcome": "ok",
         "latency_ms": 90, "endpoint": "eu.api.openai.com:443", "health": "half_open"},
    ]  # fmt: skip
    failed = usage_event_of(
        alice, status=502, error_type="upstream_error", error_provider="anthropic",
        model_requested="smart", model_dispatched=None, cost_usd=None,
    )  # fmt: skip
    failed["attempts"][0]["outcome"] = "http_502"
    for event in (answered, failed):
        push_usage(redis_client, event)

    drain_usage_stream(redis_client)

    row = RequestLog.objects.get(request_id=answered["request_id"])
    assert (row.upstream_host, row.routing_version, row.task) == (
        "eu.api.openai.com:443",
        812,
        "code",
    )
    assert row.platform_fee_usd == Decimal("0.000042")
    assert row.attempts[1]["health"] == "half_open"
    refused = RequestLog.objects.get(request_id=failed["request_id"])
    assert (refused.upstream_host, refused.error_provider) == ("", "anthropic")
    by_model = {r.model: r for r in UsageRollup.objects.filter(org=alice.org)}
    assert by_model["gpt-4o-mini"].platform_fee_nano == 42_000
    assert (by_model["gpt-4o-mini"].task, by_model["gpt-4o-mini"].errors) == ("code", 0)
    assert (by_model["smart"].status, by_model["smart"].errors) == (502, 1)


def test_a_trace_is_stored_as_the_proxy_sealed_it(
    alice: Persona, redis_client: redis.Redis
) -> None:
    today = partitions.today_utc()
    key = data_key_of(alice.org, today)
    event = usage_event_of(alice, ts=_ts(today))
    envelope = sealed_trace(key, alice.org, today, event["request_id"], {"prompt": "hello"})
    event["trace"] = envelope
    push_usage(redis_client, event)

    drain_usage_stream(redis_client)

    trace = Trace.objects.get(request_id=event["request_id"])
    assert (trace.org_id, trace.day) == (alice.org.id, today)
    assert bytes(trace.sealed) == sealed_bytes(envelope)
    context = trace_context(str(alice.org.id), today.isoformat(), event["request_id"])
    assert b'"prompt":"hello"' in open_trace(key, bytes(trace.sealed), context)


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"day": "2026-13-45", "sealed": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "invalid"),
        ({"day": "1999-01-01", "sealed": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "invalid"),
        ({"day": "TODAY", "sealed": "not base64 !"}, "invalid"),
        ({"day": "TODAY", "sealed": "QUFB"}, "invalid"),  # shorter than a nonce and a tag
        ({"day": "TODAY", "sealed": "A" * 800_000}, "too_large"),
        ("a string", "invalid"),
    ],
)
def test_a_trace_not_of_our_shape_is_not_stored_but_its_request_is(
    alice: Persona, redis_client: redis.Redis, envelope: Any, reason: str
) -> None:
    if isinstance(envelope, dict) and envelope["day"] == "TODAY":
        envelope = {**envelope, "day": partitions.today_utc().isoformat()}
    before = _counter("selixes_traces_dropped_total", f'{{reason="{reason}"}}')
    event = usage_event_of(alice, trace=envelope)
    push_usage(redis_client, event)

    assert drain_usage_stream(redis_client) == 1

    assert RequestLog.objects.filter(request_id=event["request_id"]).exists()
    assert not Trace.objects.filter(request_id=event["request_id"]).exists()
    assert _counter("selixes_traces_dropped_total", f'{{reason="{reason}"}}') == before + 1


def test_a_day_without_a_partition_gets_one_when_its_first_event_arrives(
    alice: Persona, redis_client: redis.Redis
) -> None:
    # The clock is driven ten days on: beat has not created that day yet.
    later = partitions.today_utc() + timedelta(days=10)
    assert later not in partitions.list_partitions()
    event = usage_event_of(alice, ts=_ts(later))
    push_usage(redis_client, event)

    assert drain_usage_stream(redis_client, today=later) == 1

    assert later in partitions.list_partitions(partitions.REQUEST_LOG)
    assert later in partitions.list_partitions(partitions.TRACE)
    assert _partition_of(event["request_id"]) == f"observability_requestlog_p{later:%Y%m%d}"


def test_an_event_older_than_the_retention_is_dropped_and_counted_but_its_charge_is_booked(
    alice: Persona, redis_client: redis.Redis
) -> None:
    old_day = partitions.today_utc() - timedelta(days=settings.RETENTION_DAYS + 1)
    before = _counter("selixes_usage_events_expired_total")
    old = usage_event_of(
        alice, ts=_ts(old_day), charged_nano=1_500, windows=[f"{uuid.uuid4()}:m202611"]
    )
    fresh = usage_event_of(alice)
    for event in (old, fresh):
        push_usage(redis_client, event)

    assert drain_usage_stream(redis_client) == 1

    assert not RequestLog.objects.filter(request_id=old["request_id"]).exists()
    assert RequestLog.objects.filter(request_id=fresh["request_id"]).exists()
    assert old_day not in partitions.list_partitions()  # none made for it
    assert _counter("selixes_usage_events_expired_total") == before + 1
    # Money: the budgets' ledger keeps it (gateway.budgets compacts old entries into totals).
    assert LedgerEntry.objects.get(request_id=old["request_id"]).cost_nano == 1_500
    assert not UsageRollup.objects.filter(org=alice.org, day=old_day).exists()
    assert redis_client.xlen(STREAM) == 0


def test_an_event_dated_far_ahead_is_set_aside(alice: Persona, redis_client: redis.Redis) -> None:
    ahead = usage_event_of(alice, ts=time.time() + (MAX_FUTURE_DAYS + 2) * 86_400)
    push_usage(redis_client, ahead)

    assert drain_usage_stream(redis_client) == 0

    assert not RequestLog.objects.filter(request_id=ahead["request_id"]).exists()
    [(_id, kept)] = entries_of(redis_client, DEAD_LETTERS)
    assert kept[b"reason"] == b"malformed"


def test_the_drain_books_the_ledger_entry_settled_entry_makes(
    alice: Persona, redis_client: redis.Redis
) -> None:
    event = usage_event_of(
        alice, charged_nano=987_654, windows=[f"{uuid.uuid4()}:d20261207", f"{uuid.uuid4()}:t"]
    )
    push_usage(redis_client, event)

    drain_usage_stream(redis_client)

    booked = LedgerEntry.objects.get(request_id=event["request_id"])
    made = settled_entry(event)
    assert (booked.org_id, booked.kind, booked.cost_nano, booked.windows, booked.occurred_at) == (
        made.org_id, made.kind, made.cost_nano, made.windows, made.occurred_at,
    )  # fmt: skip


def test_deleting_an_org_deletes_its_rows_in_every_partition(
    alice: Persona, charlie: Persona, redis_client: redis.Redis
) -> None:
    today = partitions.today_utc()
    key = data_key_of(alice.org, today)
    events = [usage_event_of(alice, ts=_ts(today - timedelta(days=i))) for i in range(3)]
    events[0]["trace"] = sealed_trace(key, alice.org, today, events[0]["request_id"])
    kept = usage_event_of(charlie)
    for event in [*events, kept]:
        push_usage(redis_client, event)
    drain_usage_stream(redis_client)

    alice.org.delete()

    assert not RequestLog.objects.filter(request_id__in=[e["request_id"] for e in events]).exists()
    assert not Trace.objects.exists()
    assert not UsageRollup.objects.exclude(org=charlie.org).exists()
    assert RequestLog.objects.filter(request_id=kept["request_id"]).exists()


def test_a_batch_of_large_traces_stops_near_its_byte_budget_and_the_rest_follow(
    alice: Persona, redis_client: redis.Redis
) -> None:
    """A worker's memory is bounded by bytes, not only by events: full traces are ~700 KB each."""
    day = datetime.now(UTC).date()
    key = data_key_of(alice.org, day)
    events = []
    for _ in range(12):
        event = usage_event_of(alice)
        event["trace"] = sealed_trace(
            key, alice.org, day, event["request_id"], request={"prompt": "x" * 100_000}
        )
        push_usage(redis_client, event)
        events.append(event)
    drain._ensure_group(redis_client)
    batch = drain.read_batch(redis_client, "bounded", day, max_bytes=300_000)
    assert batch is not None
    # About 134 KB per entry: two fill 300 KB, and the budget stops the reading there.
    assert 2 <= len(batch.ids) <= 3
    # Those entries stay pending for that consumer; the next drain claims them with the rest.
    drain_usage_stream(redis_client, claim_idle_ms=0)
    assert Trace.objects.filter(request_id__in=[e["request_id"] for e in events]).count() == 12
