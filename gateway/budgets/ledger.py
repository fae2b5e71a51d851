"""The ledger side of the budget engine: Redis counters are a cache of it.

- settled_entry: the drain turns a settlement (in the usage event) into an entry.
- rebuild_lost_counters: an org whose counters vanished (restart, flush, an
  empty replica) is admitted again only once they are rebuilt from the ledger.
- reap_expired: a reservation past its deadline (its proxy died) is charged
  at its estimate, in Redis and in the ledger.
- reconcile: compare every current counter with the ledger; report drift.
- ledger_spent, org_spend_by_day: what the ledger holds, its entries and the
  day totals of compacted ones (gateway.budgets.compaction) read as one.

They run in the Celery worker (gateway.budgets.tasks); the scripts are the proxy's
(gateway/proxy/lua), run here with the synchronous client.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import redis
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from config.redis import RedisClient, get_redis
from gateway.budgets.models import (
    ORG_SPEND,
    Budget,
    LedgerDayTotal,
    LedgerEntry,
    LedgerKind,
    Period,
)
from gateway.budgets.signals import settlements_pending
from gateway.proxy.lua_scripts import load_script, script_flags_from
from gateway.shared import budget_layout as layout
from gateway.shared.budget_windows import window_for
from gateway.shared.usage_event import UsageEvent
from tenants.models import Organization

log = logging.getLogger(__name__)
# A late settlement finds the tombstone for this long after its reservation was reaped.
TOMBSTONE_TTL_MS = 24 * 3600 * 1000
REAP_BATCH = 500


# Cached for its source and sha only: callers pass get_redis() on each call, so
# a client made later (another REDIS_URL, cluster mode) is the one used.
@lru_cache(maxsize=4)
def _script(*names: str) -> redis.commands.core.Script:
    return get_redis().register_script(load_script(*names, flags=script_flags_from(os.environ)))


def _write_pending_settlements(client: RedisClient) -> None:
    """Have the settlements still on the usage stream written to the ledger (the drain does)."""
    if not settlements_pending.has_listeners():
        # Without it a rebuild would miss spending already charged in Redis.
        raise ImproperlyConfigured("nothing drains the usage stream: is observability installed?")
    settlements_pending.send(sender=LedgerEntry, client=client)


def settled_entry(event: UsageEvent) -> LedgerEntry:
    return LedgerEntry(
        org_id=uuid.UUID(str(event["org_id"])),
        request_id=event["request_id"],
        kind=LedgerKind.SETTLED,
        cost_nano=max(int(event["charged_nano"]), 0),
        windows=list(event["windows"]),
        occurred_at=datetime.fromtimestamp(event["ts"], tz=UTC),
    )


@dataclass(frozen=True)
class CurrentCounter:
    budget: Budget
    label: str
    key: str
    expire_at_ms: int


def current_counters(org: Organization, now: datetime | None = None) -> list[CurrentCounter]:
    """The counter of each of the org's windowed budgets for the window holding `now`."""
    now = now or timezone.now()
    counters = []
    for budget in Budget.objects.filter(org=org).exclude(period=Period.REQUEST):
        window = window_for(budget.period, now, org.timezone)
        name = layout.label(str(budget.id), window.id)
        key = layout.counter_key_of(str(org.id), name)
        counters.append(CurrentCounter(budget, name, key, window.expire_at_ms()))
    return counters


# One statement, so it reads one snapshot: a compaction committing between two
# queries would otherwise show an entry both as itself and in a day total, or
# in neither. An entry counts once per label however often its array holds it,
# as `windows @> ARRAY[label]` would.
_SPENT_SQL = """
SELECT counter, SUM(cost_nano) FROM (
    SELECT DISTINCT e.id, charged.counter, e.cost_nano
    FROM {entries} AS e, unnest(e.windows) AS charged(counter)
    WHERE e.org_id = %(org)s AND e.windows && %(labels)s::varchar[]
    UNION ALL
    SELECT NULL, t.counter, t.cost_nano
    FROM {totals} AS t
    WHERE t.org_id = %(org)s AND t.counter = ANY(%(labels)s::varchar[])
) AS spent
WHERE counter = ANY(%(labels)s::varchar[])
GROUP BY counter
"""


def ledger_spent(org: Organization, labels: list[str]) -> dict[str, int]:
    """nano-USD the ledger holds against each counter label: its entries plus its day totals.

    Entries older than the retention live on only as LedgerDayTotal rows
    (gateway.budgets.compaction), so a `total` budget, or a month that began
    before the cutoff, is their sum and the entries' together.
    """
    spent = dict.fromkeys(labels, 0)
    if not labels:
        return spent
    sql = _SPENT_SQL.format(
        entries=LedgerEntry._meta.db_table, totals=LedgerDayTotal._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"org": org.id, "labels": labels})
        for label, total in cursor.fetchall():
            spent[label] = int(total)
    return spent


_SPEND_BY_DAY_SQL = """
SELECT day, SUM(cost_nano), SUM(requests) FROM (
    SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.cost_nano, 1 AS requests
    FROM {entries} AS e
    WHERE e.org_id = %(org)s AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
    UNION ALL
    SELECT t.day, t.cost_nano, t.requests
    FROM {totals} AS t
    WHERE t.org_id = %(org)s AND t.counter = %(all)s AND t.day >= %(first)s AND t.day < %(last)s
) AS spend
GROUP BY day
ORDER BY day
"""


@dataclass(frozen=True)
class DaySpend:
    day: date
    cost_nano: int
    requests: int


def org_spend_by_day(org: Organization, first: date, last: date) -> list[DaySpend]:
    """What the org's ledger holds per UTC day from `first` up to `last` (exclusive).

    For billing, which needs each day's spend long after its requests' rows
    are gone: the days still kept per request are summed from their entries,
    older days read the ORG_SPEND day total the compaction left, in one
    statement, so a compaction running meanwhile neither hides nor doubles a
    day. Every ledger entry counts, whatever counters it was charged to; the
    ledger holds the requests charged to at least one counter, which with
    billing on is every priced request (the plan's included usage and the
    credit are counters of their own, DESIGN.md "Billing"). Days with nothing
    are left out.
    """
    sql = _SPEND_BY_DAY_SQL.format(
        entries=LedgerEntry._meta.db_table, totals=LedgerDayTotal._meta.db_table
    )
    params: dict[str, uuid.UUID | str | date | datetime] = {
        "org": org.id,
        "all": ORG_SPEND,
        "first": first,
        "last": last,
        "start": datetime.combine(first, datetime.min.time(), tzinfo=UTC),
        "end": datetime.combine(last, datetime.min.time(), tzinfo=UTC),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [DaySpend(day, int(cost), int(requests)) for day, cost, requests in cursor]


def rebuild_counters(org: Organization, now: datetime | None = None) -> bool:
    """Write the org's counters from the ledger and mark them ready; False if they were ready.

    `now` (default: the clock) picks the windows; tests drive it.
    """
    org_id = str(org.id)
    counters = current_counters(org, now)
    spent = ledger_spent(org, [c.label for c in counters])
    keys = [layout.ready_key(org_id), layout.reservations_key(org_id), layout.deadlines_key(org_id)]
    args: list[int] = []
    for counter in counters:
        keys.append(counter.key)
        args += [spent[counter.label], counter.expire_at_ms]
    rebuilt = bool(_script("rebuild")(keys=keys, args=args, client=get_redis()))
    if rebuilt:
        log.warning("budget counters of org %s rebuilt from the ledger", org_id)
    return rebuilt


def _orgs_with_budgets() -> list[Organization]:
    return list(Organization.objects.filter(budgets__isnull=False).distinct())


def rebuild_lost_counters() -> list[str]:
    """Rebuild every org whose ready marker is gone; return their ids.

    The usage stream is drained first, so settlements that reached Redis's
    stream before the loss are in the ledger the rebuild sums.
    """
    orgs = _orgs_with_budgets()
    if not orgs:
        return []
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for org in orgs:
        pipe.exists(layout.ready_key(str(org.id)))
    missing = [org for org, present in zip(orgs, pipe.execute(), strict=True) if not present]
    if not missing:
        return []
    _write_pending_settlements(client)
    return [str(org.id) for org in missing if rebuild_counters(org)]


def reap_expired(now_ms: int | None = None) -> int:
    """Charge every reservation past its deadline at its estimate; return how many."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    client = get_redis()
    reap = _script("budget_counters", "reap")
    reaped = 0
    for org in _orgs_with_budgets():
        org_id = str(org.id)
        expired: list[bytes] = client.zrangebyscore(  # type: ignore[assignment]
            layout.deadlines_key(org_id), "-inf", now_ms, start=0, num=REAP_BATCH
        )
        entries = []
        for raw_id in expired:
            request_id = raw_id.decode()
            record: bytes | None = client.hget(layout.reservations_key(org_id), request_id)  # type: ignore[assignment]
            # "<amount>|<deadline>|<label>,<label>…" (lua/budget_counters.lua)
            labels = record.decode().split("|", 2)[2].split(",") if record else []
            keys = [
                layout.reservations_key(org_id),
                layout.deadlines_key(org_id),
                layout.tombstone_key(org_id, request_id),
                *(layout.counter_key_of(org_id, name) for name in labels if name),
            ]
            charged = int(
                reap(keys=keys, args=[request_id, now_ms, TOMBSTONE_TTL_MS], client=client)
            )
            if charged > 0:
                entries.append(
                    LedgerEntry(
                        org=org,
                        request_id=request_id,
                        kind=LedgerKind.REAPED,
                        cost_nano=charged,
                        windows=labels,
                        occurred_at=timezone.now(),
                    )
                )
        if entries:
            # The estimate is what Redis charged: it replaces a late settlement's entry.
            LedgerEntry.objects.bulk_create(
                entries,
                update_conflicts=True,
                unique_fields=["request_id"],
                update_fields=["kind", "cost_nano", "windows"],
            )
            log.warning("reaped %d reservations of org %s", len(entries), org_id)
            reaped += len(entries)
    return reaped


@dataclass(frozen=True)
class Drift:
    org_id: str
    label: str
    redis_spent: int | None  # None: the counter is missing
    ledger_spent: int

    @property
    def nano(self) -> int:
        return (self.redis_spent or 0) - self.ledger_spent


def reconcile() -> list[Drift]:
    """Compare each current counter's spent with the ledger; log and return the differences.

    Settlements reach the ledger through the usage stream a few seconds after
    Redis, so the stream is drained first; a difference that remains is drift.
    """
    client = get_redis()
    _write_pending_settlements(client)
    drifts: list[Drift] = []
    for org in _orgs_with_budgets():
        counters = current_counters(org)
        ledger = ledger_spent(org, [c.label for c in counters])
        pipe = client.pipeline(transaction=False)
        for counter in counters:
            pipe.hget(counter.key, "spent")
        for counter, raw in zip(counters, pipe.execute(), strict=True):
            in_redis = int(raw) if raw is not None else None
            if (in_redis or 0) != ledger[counter.label]:
                drift = Drift(str(org.id), counter.label, in_redis, ledger[counter.label])
                log.warning(
                    "budget drift org=%s counter=%s redis=%s ledger=%s",
                    drift.org_id,
                    drift.label,
                    drift.redis_spent,
                    drift.ledger_spent,
                )
                drifts.append(drift)
    return drifts
