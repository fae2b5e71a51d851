"""PlanCache: a key's budgets and rate limits are worked out once per snapshot and window."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.proxy.budget.plan import PlanCache
from tests.factories.snapshots import budget, key_entry, tenant

# 2026-11-30 23:59:59 UTC: a monthly window ends one second later.
END_OF_MONTH = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC).timestamp()


def test_a_plan_is_reused_until_its_window_ends() -> None:
    cache = PlanCache()
    snapshot = tenant(budget("b", 10**9))
    key = key_entry(rpm=60)
    first = cache.plan(snapshot, key, END_OF_MONTH - 10)
    assert cache.plan(snapshot, key, END_OF_MONTH) is first
    assert [limit.kind for limit in first.limits] == ["rpm"]
    december = cache.plan(snapshot, key, END_OF_MONTH + 1)
    assert december is not first
    assert december.budgets.counters[0].label != first.budgets.counters[0].label


def test_a_new_snapshot_version_brings_new_limits_and_budgets() -> None:
    cache = PlanCache()
    key = key_entry(rpm=60)
    before = cache.plan(tenant(budget("b", 10**9), key=key), key, END_OF_MONTH - 10)
    changed_key = key_entry(rpm=5)
    changed = tenant(budget("b", 10**9), budget("c", 10**6, scope="key"), key=changed_key)
    changed["version"] = 2
    after = cache.plan(changed, changed_key, END_OF_MONTH - 10)
    assert [limit.limit for limit in before.limits] == [60]
    assert [limit.limit for limit in after.limits] == [5]
    assert len(after.budgets.counters) == 2


def test_the_cache_is_bounded() -> None:
    cache = PlanCache(size=2)
    snapshot = tenant(budget("b", 10**9))
    first = cache.plan(snapshot, key_entry(), END_OF_MONTH - 10)
    for key_id in ("k2", "k3"):
        cache.plan(snapshot, {**key_entry(), "id": key_id}, END_OF_MONTH - 10)
    assert cache.plan(snapshot, key_entry(), END_OF_MONTH - 10) is not first
