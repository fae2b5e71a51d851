"""The retention purge: data keys shredded first, then whole partitions dropped; resumable.

The clock is driven: a day of traffic and data keys is written, then the
purge runs as of a later `today` whose cutoff falls after that day.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import redis
from django.conf import settings
from django.core.management import call_command

from gateway.budgets.models import ORG_SPEND, LedgerDayTotal, LedgerEntry, LedgerKind
from observability import partitions, retention
from observability.drain import drain_usage_stream
from observability.models import DataKey, RequestLog, Trace, UsageRollup
from tests.conftest import Persona
from tests.factories.traces import data_key_of, sealed_trace, stored_data_key
from tests.factories.usage import push_usage, usage_event_of


def _traced_request(persona: Persona, redis_client: redis.Redis, day: date) -> str:
    """A request of `day` with a trace sealed under that day's data key; its id."""
    key = stored_data_key(persona.org, day) or data_key_of(persona.org, day)
    ts = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
    event = usage_event_of(persona, ts=ts)
    event["trace"] = sealed_trace(key, persona.org, day, event["request_id"])
    push_usage(redis_client, event)
    return event["request_id"]


def _readable_traces_before(cutoff: date) -> list[str]:
    """Traces of days before the cutoff that still have a data key to open them with."""
    return [
        trace.request_id
        for trace in Trace.objects.filter(day__lt=cutoff)
        if DataKey.objects.filter(org_id=trace.org_id, day=trace.day).exists()
    ]


def test_a_purge_killed_after_shredding_is_finished_by_the_next_run(
    alice: Persona, redis_client: redis.Redis
) -> None:
    real_today = partitions.today_utc()
    old_day, kept_day = real_today - timedelta(days=3), real_today - timedelta(days=1)
    old = [_traced_request(alice, redis_client, old_day) for _ in range(2)]
    kept = _traced_request(alice, redis_client, kept_day)
    drain_usage_stream(redis_client)
    # Later: the cutoff falls between the two days.
    today = old_day + timedelta(days=settings.RETENTION_DAYS + 1)
    cutoff = partitions.retention_cutoff(today)
    assert old_day < cutoff <= kept_day
    assert sorted(_readable_traces_before(cutoff)) == sorted(old)

    # (a) ran, then the purge was killed.
    assert retention.shred_data_keys(cutoff) == 1
    assert stored_data_key(alice.org, old_day) is None  # its traces no longer open
    assert _readable_traces_before(cutoff) == []
    assert Trace.objects.filter(request_id__in=old).count() == 2  # rows still there, unreadable
    assert old_day in partitions.list_partitions()

    report = retention.purge_expired(today)

    assert report.cutoff == cutoff
    assert report.data_keys_shredded == 0  # done before the kill
    assert f"observability_requestlog_p{old_day:%Y%m%d}" in report.partitions_dropped
    assert f"observability_trace_p{old_day:%Y%m%d}" in report.partitions_dropped
    assert all(day >= cutoff for day in partitions.list_partitions(partitions.REQUEST_LOG))
    assert all(day >= cutoff for day in partitions.list_partitions(partitions.TRACE))
    assert not RequestLog.objects.filter(request_id__in=old).exists()
    assert not Trace.objects.filter(request_id__in=old).exists()
    # The kept day is untouched: its row, its trace and the key that opens it.
    assert RequestLog.objects.filter(request_id=kept).exists()
    assert Trace.objects.filter(request_id=kept).exists()
    assert stored_data_key(alice.org, kept_day) is not None
    # And again: nothing left to do.
    again = retention.purge_expired(today)
    assert (again.data_keys_shredded, again.partitions_dropped) == (0, [])


def test_the_purge_shreds_keys_before_it_drops_partitions(
    alice: Persona, redis_client: redis.Redis
) -> None:
    old_day = partitions.today_utc() - timedelta(days=2)
    request_id = _traced_request(alice, redis_client, old_day)
    drain_usage_stream(redis_client)
    today = old_day + timedelta(days=settings.RETENTION_DAYS + 1)
    cutoff = partitions.retention_cutoff(today)

    # (c) alone must not run first: were it killed before (a), the data key
    # would outlive the retention. Run in order, (a) leaves nothing readable
    # whatever happens after it.
    retention.shred_data_keys(cutoff)
    assert Trace.objects.filter(request_id=request_id).exists()
    assert _readable_traces_before(cutoff) == []
    retention.compact_ledger(cutoff, today)
    retention.drop_expired_partitions(cutoff)
    assert not Trace.objects.filter(request_id=request_id).exists()
    assert not DataKey.objects.filter(day__lt=cutoff).exists()


def test_rollups_are_kept_400_days(alice: Persona) -> None:
    today = partitions.today_utc()
    for age in (retention.ROLLUP_DAYS + 1, retention.ROLLUP_DAYS, 31):
        UsageRollup.objects.create(
            org=alice.org, day=today - timedelta(days=age), status=200, requests=age
        )

    report = retention.purge_expired(today)

    assert report.rollups_pruned == 1
    kept = sorted(UsageRollup.objects.values_list("requests", flat=True))
    assert kept == [31, retention.ROLLUP_DAYS]


def test_an_operator_can_run_the_purge_from_the_command_line(
    alice: Persona, redis_client: redis.Redis
) -> None:
    old_day = partitions.today_utc() - timedelta(days=2)
    _traced_request(alice, redis_client, old_day)
    drain_usage_stream(redis_client)
    today = old_day + timedelta(days=settings.RETENTION_DAYS + 1)
    out = io.StringIO()

    call_command("purge_expired", f"--today={today.isoformat()}", stdout=out)

    text = out.getvalue()
    assert f"cutoff {partitions.retention_cutoff(today)}" in text
    assert "data keys shredded: 1" in text
    assert f"observability_trace_p{old_day:%Y%m%d}" in text
    assert not DataKey.objects.filter(org=alice.org, day=old_day).exists()
    # It also makes the days ahead of the driven clock.
    assert today + timedelta(days=partitions.AHEAD_DAYS) in partitions.list_partitions()


def test_the_purge_folds_expired_ledger_entries_into_day_totals(alice: Persona) -> None:
    today = partitions.today_utc()
    cutoff = partitions.retention_cutoff(today)
    old, recent = cutoff - timedelta(days=2), today - timedelta(days=1)
    for request_id, day in (("old-1", old), ("old-2", old), ("recent-1", recent)):
        LedgerEntry.objects.create(
            org=alice.org,
            request_id=request_id,
            kind=LedgerKind.SETTLED,
            cost_nano=1_000,
            windows=["budget-1:total"],
            occurred_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
        )
    report = retention.purge_expired(today)
    assert report.ledger_entries_compacted == 2
    # No per-request row of the expired day is left; its spend lives on as totals.
    assert list(LedgerEntry.objects.values_list("request_id", flat=True)) == ["recent-1"]
    totals = {
        (row.counter, row.day): (row.cost_nano, row.requests)
        for row in LedgerDayTotal.objects.filter(org=alice.org)
    }
    assert totals == {(ORG_SPEND, old): (2_000, 2), ("budget-1:total", old): (2_000, 2)}
    assert retention.purge_expired(today).ledger_entries_compacted == 0  # idempotent
