"""Ledger compaction: entries past the retention become per-day totals, and every reader of
the ledger (the rebuild after Redis loses its data, reconcile, billing's daily spend) gives the
same answer before and after.
"""

from __future__ import annotations

import io
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import DataError, connection
from django.utils import timezone

from gateway.budgets.compaction import (
    compact_expired_ledger,
    compact_ledger_before,
    retention_cutoff,
)
from gateway.budgets.ledger import (
    current_counters,
    ledger_spent,
    org_spend_by_day,
    rebuild_counters,
    rebuild_lost_counters,
    reconcile,
)
from gateway.budgets.models import ORG_SPEND, Budget, LedgerDayTotal, LedgerEntry, LedgerKind
from gateway.shared import budget_layout as layout
from gateway.shared.budget_windows import window_for
from gateway.shared.money import NANO_PER_USD
from tenants.models import Organization
from tests.conftest import Persona

USD = NANO_PER_USD


def budget_of(org: Organization, period: str, limit_usd: int = 1000) -> Budget:
    return Budget.objects.create(
        org=org, scope="org", scope_id=org.id, limit_nano=limit_usd * USD, period=period
    )


def charge(
    org: Organization,
    at: datetime,
    cost_nano: int,
    budgets: list[Budget],
    extra: tuple[str, ...] = (),
) -> LedgerEntry:
    """A settled request's ledger entry, charged to each budget's window at `at`, as the drain
    writes it (gateway.budgets.ledger.settled_entry)."""
    labels = [layout.label(str(b.id), window_for(b.period, at, org.timezone).id) for b in budgets]
    return LedgerEntry.objects.create(
        org=org,
        request_id=uuid.uuid4().hex,
        kind=LedgerKind.SETTLED,
        cost_nano=cost_nano,
        windows=[*labels, *extra],
        occurred_at=at,
    )


def counters_in_redis(client: redis.Redis, org: Organization, now: datetime) -> dict[str, int]:
    spent = {}
    for counter in current_counters(org, now):
        raw: Any = client.hget(counter.key, "spent")
        spent[counter.label] = int(raw) if raw is not None else -1
    return spent


def totals_of(org: Organization) -> dict[tuple[str, date], tuple[int, int]]:
    return {
        (t.counter, t.day): (t.cost_nano, t.requests)
        for t in LedgerDayTotal.objects.filter(org=org)
    }


@pytest.fixture
def now() -> datetime:
    # Mid-day, so "an hour ago" is today whatever the clock says.
    return timezone.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.mark.django_db
def test_old_entries_become_day_totals_per_counter_and_for_the_whole_org(
    alice: Persona, charlie: Persona, now: datetime
) -> None:
    total, month = budget_of(alice.org, "total"), budget_of(alice.org, "month")
    old_day = now - timedelta(days=40)
    charge(alice.org, old_day, 3 * USD, [total, month])
    charge(alice.org, old_day + timedelta(hours=1), 2 * USD, [total])
    # Charged to no budget of its own (e.g. a deleted one's label): still the org's spend.
    charge(alice.org, old_day - timedelta(days=1), 7, [], extra=("gone:total",))
    recent = charge(alice.org, now - timedelta(hours=1), 5 * USD, [total, month])
    theirs = charge(charlie.org, old_day, 11, [budget_of(charlie.org, "total")])

    done = compact_ledger_before(retention_cutoff())

    assert (done.entries, done.orgs) == (4, 2)
    assert list(LedgerEntry.objects.values_list("id", flat=True)) == [recent.id]
    month_label = layout.label(str(month.id), window_for("month", old_day).id)
    total_label = layout.label(str(total.id), "total")
    day, day_before = old_day.date(), old_day.date() - timedelta(days=1)
    assert totals_of(alice.org) == {
        (total_label, day): (5 * USD, 2),
        (month_label, day): (3 * USD, 1),
        (ORG_SPEND, day): (5 * USD, 2),
        ("gone:total", day_before): (7, 1),
        (ORG_SPEND, day_before): (7, 1),
    }
    their_label = theirs.windows[0]
    assert totals_of(charlie.org) == {(their_label, day): (11, 1), (ORG_SPEND, day): (11, 1)}
    # What is kept names no request: no request id, no entry id, no time of day.
    fields = {f.name for f in LedgerDayTotal._meta.get_fields()}
    assert fields == {"id", "org", "counter", "day", "cost_nano", "requests"}


@pytest.mark.django_db
def test_compacting_again_adds_only_what_arrived_since(alice: Persona, now: datetime) -> None:
    total = budget_of(alice.org, "total")
    old = now - timedelta(days=45)
    for cost in (1, 2, 3):
        charge(alice.org, old, cost, [total])
    compact_ledger_before(retention_cutoff())
    first = totals_of(alice.org)

    assert compact_ledger_before(retention_cutoff()).entries == 0
    assert totals_of(alice.org) == first
    # A late event for a compacted day lands as an entry and is added to that day's totals.
    charge(alice.org, old, 10, [total])
    assert compact_ledger_before(retention_cutoff()).entries == 1
    label = layout.label(str(total.id), "total")
    assert totals_of(alice.org)[(label, old.date())] == (16, 4)
    assert totals_of(alice.org)[(ORG_SPEND, old.date())] == (16, 4)


@pytest.mark.django_db
def test_an_interrupted_compaction_loses_and_doubles_nothing_when_run_again(
    alice: Persona, charlie: Persona, now: datetime
) -> None:
    total = budget_of(alice.org, "total")
    label = layout.label(str(total.id), "total")
    days = [now - timedelta(days=d) for d in (50, 49, 48)]
    for at in days:
        for _ in range(2):
            charge(alice.org, at, 100, [total])
    charge(charlie.org, days[0], 9, [budget_of(charlie.org, "total")])
    spent_before = ledger_spent(alice.org, [label])
    # The third day's total is one nano short of what PostgreSQL can add to: the batch that
    # brings that day's entries fails, after the batches of the days before it committed.
    blocker = LedgerDayTotal.objects.create(
        org=alice.org, counter=label, day=days[2].date(), cost_nano=2**63 - 100, requests=1
    )
    with pytest.raises(DataError):
        compact_ledger_before(retention_cutoff(), batch=2)
    assert LedgerEntry.objects.filter(org=alice.org).count() == 2  # the failed batch's two
    blocker.delete()

    compact_ledger_before(retention_cutoff(), batch=2)

    assert not LedgerEntry.objects.exists()
    assert totals_of(alice.org) == {
        **{(label, at.date()): (200, 2) for at in days},
        **{(ORG_SPEND, at.date()): (200, 2) for at in days},
    }
    assert ledger_spent(alice.org, [label]) == spent_before == {label: 600}
    assert sum(t.cost_nano for t in LedgerDayTotal.objects.filter(org=charlie.org)) == 18


@pytest.mark.django_db(transaction=True)
def test_two_compactions_at_once_count_every_entry_once(alice: Persona, now: datetime) -> None:
    total = budget_of(alice.org, "total")
    label = layout.label(str(total.id), "total")
    for hour in range(60):
        charge(alice.org, now - timedelta(days=40, hours=hour), 1_000 + hour, [total])
    expected = ledger_spent(alice.org, [label])
    failures: list[BaseException] = []

    def compact() -> None:
        try:
            compact_ledger_before(retention_cutoff(), batch=7)
        except BaseException as e:  # reported below, on the test's thread
            failures.append(e)
        finally:
            connection.close()

    runs = [threading.Thread(target=compact) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert failures == []
    assert not LedgerEntry.objects.exists()
    assert ledger_spent(alice.org, [label]) == expected
    spent = LedgerDayTotal.objects.filter(org=alice.org, counter=ORG_SPEND)
    assert sum(t.requests for t in spent) == 60


@pytest.mark.django_db
def test_a_total_budget_mostly_spent_before_the_retention_keeps_its_spend(
    alice: Persona, now: datetime
) -> None:
    total = budget_of(alice.org, "total")
    label = layout.label(str(total.id), "total")
    for days_ago, cost in ((400, 40 * USD), (90, 30 * USD), (31, 20 * USD), (0, 1 * USD)):
        charge(alice.org, now - timedelta(days=days_ago, hours=1), cost, [total])
    assert ledger_spent(alice.org, [label]) == {label: 91 * USD}

    assert compact_expired_ledger().entries == 3

    assert LedgerEntry.objects.count() == 1
    assert ledger_spent(alice.org, [label]) == {label: 91 * USD}


@pytest.mark.django_db
def test_counters_rebuilt_after_redis_loses_everything_are_the_same_after_compaction(
    alice: Persona, redis_client: redis.Redis, now: datetime
) -> None:
    budgets = [budget_of(alice.org, p) for p in ("total", "month", "day")]
    for days_ago in (200, 60, 35, 31, 29, 2, 0):
        charge(alice.org, now - timedelta(days=days_ago, hours=1), 1_000_000 + days_ago, budgets)
    redis_client.flushdb()  # Redis lost everything (this worker's database)
    assert rebuild_lost_counters() == [str(alice.org.id)]
    before = counters_in_redis(redis_client, alice.org, timezone.now())
    total_label = layout.label(str(budgets[0].id), "total")
    assert before[total_label] == sum(1_000_000 + d for d in (200, 60, 35, 31, 29, 2, 0))

    assert compact_expired_ledger().entries == 4
    redis_client.flushdb()
    assert rebuild_lost_counters() == [str(alice.org.id)]

    assert counters_in_redis(redis_client, alice.org, timezone.now()) == before
    assert reconcile() == []


@pytest.mark.django_db
def test_a_month_that_began_before_the_cutoff_is_rebuilt_whole(
    alice: Persona, redis_client: redis.Redis
) -> None:
    # The clock is driven to the 15th of a month ahead, and the cutoff to the 14th: the
    # month's first two weeks are compacted, its last day is not.
    alice.org.timezone = "America/Los_Angeles"
    alice.org.save()
    ahead = (timezone.now() + timedelta(days=62)).replace(day=15, hour=20, minute=0)
    month = budget_of(alice.org, "month")
    label = layout.label(str(month.id), window_for("month", ahead, alice.org.timezone).id)
    first_hour = window_for("month", ahead, alice.org.timezone).starts_at
    assert first_hour is not None
    for at in (first_hour, first_hour + timedelta(days=6), ahead - timedelta(hours=1)):
        charge(alice.org, at, 2 * USD, [month])
    # The last hour of the month before: another window, never counted in this one.
    charge(alice.org, first_hour - timedelta(hours=1), 50 * USD, [month])
    assert rebuild_counters(alice.org, now=ahead)
    before = counters_in_redis(redis_client, alice.org, ahead)
    assert before == {label: 6 * USD}

    today = ahead.astimezone(UTC).date()
    done = compact_ledger_before(today - timedelta(days=1), today=today)
    assert done.entries == 3
    redis_client.flushdb()

    assert rebuild_counters(alice.org, now=ahead)
    assert counters_in_redis(redis_client, alice.org, ahead) == before


@pytest.mark.django_db
def test_billing_reads_the_orgs_spend_per_day_before_and_after_compaction(
    alice: Persona, charlie: Persona, now: datetime
) -> None:
    total, day = budget_of(alice.org, "total"), budget_of(alice.org, "day")
    spread = {45: [3, 4], 44: [5], 40: [6], 1: [7, 8], 0: [9]}
    for days_ago, costs in spread.items():
        for cost in costs:
            # Half are charged to both budgets, half to one: the org's spend counts each once.
            budgets = [total, day] if cost % 2 else [total]
            charge(alice.org, now - timedelta(days=days_ago), cost * USD, budgets)
    charge(charlie.org, now - timedelta(days=45), 1, [budget_of(charlie.org, "total")])
    first, last = (now - timedelta(days=60)).date(), (now + timedelta(days=1)).date()
    before = org_spend_by_day(alice.org, first, last)
    assert [(d.cost_nano // USD, d.requests) for d in before] == [
        (7, 2),
        (5, 1),
        (6, 1),
        (15, 2),
        (9, 1),
    ]

    compact_expired_ledger()

    assert LedgerEntry.objects.filter(org=alice.org).count() == 3
    assert org_spend_by_day(alice.org, first, last) == before
    # A window cuts on UTC days, compacted or not.
    two_days = org_spend_by_day(alice.org, (now - timedelta(days=44)).date(), now.date())
    assert [d.cost_nano // USD for d in two_days] == [5, 6, 15]


@pytest.mark.django_db
def test_the_command_compacts_before_the_day_it_is_given(alice: Persona, now: datetime) -> None:
    total = budget_of(alice.org, "total")
    charge(alice.org, now - timedelta(days=10), 5, [total])
    charge(alice.org, now - timedelta(days=3), 6, [total])
    before = (now - timedelta(days=5)).date()
    out = io.StringIO()

    call_command("compact_ledger", "--before", before.isoformat(), stdout=out)

    assert orjson.loads(out.getvalue()) == {
        "before": before.isoformat(),
        "entries_compacted": 1,
        "day_totals_written": 2,
        "orgs": 1,
    }
    assert [e.cost_nano for e in LedgerEntry.objects.all()] == [6]


TODAY = timezone.now().astimezone(UTC).date()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-13-01", "YYYY-MM-DD"),
        ("yesterday", "YYYY-MM-DD"),
        ((TODAY + timedelta(days=1)).isoformat(), "kept per request"),
        (TODAY.isoformat(), "kept per request"),
    ],
)
def test_the_command_refuses_a_day_it_cannot_compact_before(
    alice: Persona, now: datetime, given: str, message: str
) -> None:
    entry = charge(alice.org, now - timedelta(hours=1), 5, [budget_of(alice.org, "total")])
    with pytest.raises(CommandError, match=message):
        call_command("compact_ledger", "--before", given)
    assert LedgerEntry.objects.filter(id=entry.id).exists()
