"""gateway.proxy.limits: which limits a key's request must pass, and how they are encoded."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.proxy.limits import (
    NEVER,
    Limit,
    Rejection,
    decode_rejection,
    encode_plan,
    limit_plan,
    limits_call,
)
from gateway.shared.snapshot import KeyEntry, Snapshot


def key_entry(rpm: int | None = None, tpm: int | None = None, project: str = "p1") -> KeyEntry:
    return {
        "id": "k1",
        "hash": "h",
        "project_id": project,
        "team_id": None,
        "user_id": None,
        "rpm_limit": rpm,
        "tpm_limit": tpm,
    }


def snapshot(projects: dict[str, Any]) -> Snapshot:
    tenant: dict[str, Any] = {
        "org_id": "org-a",
        "version": 1,
        "keys": {},
        "routes": {},
        "provider_keys": {},
        "projects": projects,
        "budgets": [],
        "budget_defaults": {
            "timezone": "UTC",
            "default_price": None,
            "default_max_output_tokens": None,
        },
    }
    return tenant  # type: ignore[return-value]  # a literal of the TypedDict's shape


def test_a_request_passes_the_keys_limits_then_its_projects() -> None:
    tenant = snapshot({"p1": {"rpm_limit": 600, "tpm_limit": 90_000}})

    plan = limit_plan(tenant, key_entry(rpm=60, tpm=10_000))

    assert [(limit.kind, limit.scope, limit.scope_id, limit.limit) for limit in plan] == [
        ("rpm", "key", "k1", 60),
        ("tpm", "key", "k1", 10_000),
        ("rpm", "project", "p1", 600),
        ("tpm", "project", "p1", 90_000),
    ]
    assert {limit.window_ms for limit in plan} == {60_000}


def test_every_limit_key_carries_the_orgs_hash_tag() -> None:
    tenant = snapshot({"p1": {"rpm_limit": 600, "tpm_limit": 90_000}})

    plan = limit_plan(tenant, key_entry(rpm=60, tpm=10_000))

    assert [limit.redis_key for limit in plan] == [
        "sel:{org-a}:rl:rpm:key:k1",
        "sel:{org-a}:rl:tpm:key:k1",
        "sel:{org-a}:rl:rpm:project:p1",
        "sel:{org-a}:rl:tpm:project:p1",
    ]


def test_a_limit_that_is_none_does_not_exist() -> None:
    tenant = snapshot({"p1": {"rpm_limit": None, "tpm_limit": 90_000}})

    plan = limit_plan(tenant, key_entry(rpm=60))

    assert [(limit.kind, limit.scope) for limit in plan] == [("rpm", "key"), ("tpm", "project")]


def test_a_project_missing_from_the_snapshot_adds_no_limits() -> None:
    assert limit_plan(snapshot({}), key_entry(project="elsewhere")) == []


def test_a_snapshot_published_before_limits_existed_has_none() -> None:
    tenant = snapshot({})
    del tenant["projects"]  # type: ignore[misc]  # an older snapshot's shape
    key = key_entry()
    del key["rpm_limit"]  # type: ignore[misc]
    del key["tpm_limit"]  # type: ignore[misc]

    assert limit_plan(tenant, key) == []


def test_the_script_call_lists_each_limits_kind_window_limit_and_cost() -> None:
    tenant = snapshot({"p1": {"rpm_limit": 600, "tpm_limit": None}})
    plan = limit_plan(tenant, key_entry(tpm=10_000))

    call = limits_call(plan, now_ms=1_234, tokens=700)

    assert call.keys == ["sel:{org-a}:rl:tpm:key:k1", "sel:{org-a}:rl:rpm:project:p1"]
    assert call.args[0] == 1_234
    assert isinstance(call.args[1], bytes)
    assert orjson.loads(call.args[1]) == [["tpm", 60_000, 10_000, 700], ["rpm", 60_000, 600, 1]]
    assert encode_plan(plan, tokens=700).args == call.args[1:]


def test_a_rejection_names_the_limit_and_rounds_the_wait_up_to_whole_seconds() -> None:
    plan = [Limit("rpm", "key", "k1", "sel:{o}:rl:rpm:key:k1", 10)]

    assert decode_rejection(plan, 0, 0) is None
    rejection = decode_rejection(plan, 1, 61_001)
    assert rejection == Rejection(plan[0], 61_001)
    assert rejection.retry_after_s == 62
    assert Rejection(plan[0], 1).retry_after_s == 1
    assert Rejection(plan[0], 3_000).retry_after_s == 3


def test_a_request_that_can_never_fit_has_no_retry_after() -> None:
    plan = [Limit("tpm", "key", "k1", "sel:{o}:rl:tpm:key:k1", 10)]

    rejection = decode_rejection(plan, 1, NEVER)

    assert rejection is not None
    assert rejection.retry_after_ms is None
    assert rejection.retry_after_s is None
