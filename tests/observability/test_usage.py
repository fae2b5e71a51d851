"""The usage report: exact sums of the daily rollups, grouped, ordered, per org."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from observability.latency_histogram import histogram_of, percentile
from observability.usage import (
    MAX_WINDOW_DAYS,
    UsageError,
    check_window,
    names_for,
    parse_group_by,
    usage_report,
)
from tenants import actions
from tests.conftest import Persona
from tests.factories.rollups import add_rollup

pytestmark = pytest.mark.django_db

DEC_1, DEC_2, DEC_3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


def test_it_sums_every_figure_of_a_day_exactly(alice: Persona) -> None:
    # 2**53 + 1 nano-USD: a float would lose the last nano-dollar.
    add_rollup(
        alice.org,
        DEC_1,
        latencies=[100] * 3,
        input_tokens=10,
        output_tokens=20,
        cached_input_tokens=3,
        reasoning_tokens=4,
        cost_nano=2**53 + 1,
    )
    add_rollup(
        alice.org,
        DEC_1,
        model="claude",
        provider="anthropic",
        latencies=[200] * 2,
        input_tokens=5,
        output_tokens=6,
        cached_input_tokens=1,
        reasoning_tokens=2,
        cost_nano=999,
    )
    add_rollup(alice.org, DEC_1, status=502, latencies=[3000], cost_nano=0)  # fmt: skip

    report = usage_report(alice.org, DEC_1, DEC_2, ["day"])

    assert len(report.rows) == 1
    row = report.rows[0]
    assert row.keys == {"day": DEC_1}
    figures = row.figures()
    assert figures["requests"] == 6
    assert figures["errors"] == 1
    assert figures["input_tokens"] == 15
    assert figures["output_tokens"] == 26
    assert figures["cached_input_tokens"] == 4
    assert figures["reasoning_tokens"] == 6
    # 9007199254740993 + 999 nano-USD = 9007199.254741992 USD, shown rounded up to six places.
    assert row.cost_nano == 2**53 + 1 + 999
    assert figures["cost_usd"] == "9007199.254742"
    assert report.totals.figures() == figures


def test_it_shows_a_sub_micro_cost_rounded_up_never_as_zero(alice: Persona) -> None:
    add_rollup(alice.org, DEC_1, latencies=[5], cost_nano=1)
    assert usage_report(alice.org, DEC_1, DEC_2).totals.cost_usd == "0.000001"


def test_it_merges_the_latency_histograms_of_a_group(alice: Persona) -> None:
    fast, slow = [100] * 90, [2000] * 10
    add_rollup(alice.org, DEC_1, latencies=fast)
    add_rollup(alice.org, DEC_1, model="big", latencies=slow)

    row = usage_report(alice.org, DEC_1, DEC_2, ["day"]).rows[0]

    everything = histogram_of(fast + slow)
    assert row.latency_ms_p50 == percentile(everything, 50)
    assert row.latency_ms_p95 == percentile(everything, 95)
    # Within the histogram's 10% of the truth: p50 is the fast requests, p95 the slow ones.
    assert 90 <= (row.latency_ms_p50 or 0) <= 110
    assert 1800 <= (row.latency_ms_p95 or 0) <= 2200


def test_it_groups_by_several_keys_sorted_in_their_order(alice: Persona) -> None:
    add_rollup(alice.org, DEC_2, model="b-model", latencies=[10], cost_nano=1_000)
    add_rollup(alice.org, DEC_1, model="b-model", latencies=[10], cost_nano=2_000)
    add_rollup(alice.org, DEC_1, model="a-model", latencies=[10, 10], cost_nano=3_000)
    add_rollup(alice.org, DEC_1, model="a-model", status=429, latencies=[1], cost_nano=0)

    report = usage_report(alice.org, DEC_1, DEC_3, ["day", "model"])

    assert [(r.keys["day"], r.keys["model"], r.requests, r.errors, r.cost_nano)
            for r in report.rows] == [
        (DEC_1, "a-model", 3, 1, 3_000),
        (DEC_1, "b-model", 1, 0, 2_000),
        (DEC_2, "b-model", 1, 0, 1_000),
    ]  # fmt: skip
    assert report.totals.requests == 5
    assert report.totals.cost_nano == 6_000

    by_model_then_day = usage_report(alice.org, DEC_1, DEC_3, ["model", "day"])
    assert [(r.keys["model"], r.keys["day"]) for r in by_model_then_day.rows] == [
        ("a-model", DEC_1), ("b-model", DEC_1), ("b-model", DEC_2),
    ]  # fmt: skip


def test_it_groups_by_status_numerically_and_a_missing_key_last(alice: Persona) -> None:
    key = uuid.uuid4()
    add_rollup(alice.org, DEC_1, status=200, key_id=key, latencies=[1])
    add_rollup(alice.org, DEC_1, status=50, key_id=None, latencies=[1])  # sorts before 200
    add_rollup(alice.org, DEC_1, status=401, key_id=None, task="", latencies=[1])

    by_status = usage_report(alice.org, DEC_1, DEC_2, ["status"])
    assert [r.keys["status"] for r in by_status.rows] == [50, 200, 401]

    by_key = usage_report(alice.org, DEC_1, DEC_2, ["key", "task"])
    assert [r.keys for r in by_key.rows] == [
        {"key": key, "task": None},  # a blank task reads as none
        {"key": None, "task": None},
    ]
    assert [r.requests for r in by_key.rows] == [1, 2]


def test_the_window_includes_from_and_excludes_to(alice: Persona) -> None:
    add_rollup(alice.org, date(2026, 11, 30), latencies=[1], cost_nano=1)
    add_rollup(alice.org, DEC_1, latencies=[1], cost_nano=10)
    add_rollup(alice.org, DEC_2, latencies=[1], cost_nano=100)
    add_rollup(alice.org, DEC_3, latencies=[1], cost_nano=1000)

    report = usage_report(alice.org, DEC_1, DEC_3)

    assert [r.keys["day"] for r in report.rows] == [DEC_1, DEC_2]
    assert report.totals.cost_nano == 110


def test_an_empty_window_has_no_rows_and_zero_totals(alice: Persona) -> None:
    add_rollup(alice.org, DEC_3, latencies=[1], cost_nano=1)

    report = usage_report(alice.org, DEC_1, DEC_3, ["day", "model"])

    assert report.rows == []
    assert report.totals.figures() == {
        "requests": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0,
        "cached_input_tokens": 0, "reasoning_tokens": 0, "cost_usd": "0.000000",
        "latency_ms_p50": None, "latency_ms_p95": None,
    }  # fmt: skip


def test_it_reports_one_org_only(alice: Persona, charlie: Persona) -> None:
    add_rollup(alice.org, DEC_1, latencies=[1], cost_nano=5)
    add_rollup(charlie.org, DEC_1, latencies=[1, 1, 1], cost_nano=7_000)

    assert usage_report(alice.org, DEC_1, DEC_2).totals.requests == 1
    assert usage_report(alice.org, DEC_1, DEC_2).totals.cost_nano == 5
    assert usage_report(charlie.org, DEC_1, DEC_2).totals.cost_nano == 7_000


def test_names_are_looked_up_within_the_org(alice: Persona, charlie: Persona) -> None:
    key = actions.issue_api_key(alice.project, "backend", alice.actor, user=alice.user)
    add_rollup(
        alice.org,
        DEC_1,
        project_id=alice.project.id,
        key_id=key.id,
        user_id=alice.user.id,
        latencies=[1],
    )
    # Another org's project id in alice's rollup (it cannot happen, but must not leak a name).
    add_rollup(alice.org, DEC_1, project_id=charlie.project.id, latencies=[1])  # fmt: skip

    report = usage_report(alice.org, DEC_1, DEC_2, ["project", "key", "user"])
    names = names_for(alice.org, report.rows)

    assert names.of("project", alice.project.id) == "Default"
    assert names.of("project", charlie.project.id) is None
    assert names.of("key", uuid.UUID(key.id)) == f"backend ({key.prefix}…)"
    assert names.of("user", alice.user.id) == "alice@acme.test"


def test_it_refuses_windows_it_cannot_answer() -> None:
    with pytest.raises(UsageError, match="after 'from'"):
        check_window(DEC_2, DEC_2)
    with pytest.raises(UsageError, match="after 'from'"):
        check_window(DEC_3, DEC_1)
    check_window(date(2025, 1, 1), date(2025, 1, 1).fromordinal(
        date(2025, 1, 1).toordinal() + MAX_WINDOW_DAYS))  # fmt: skip
    with pytest.raises(UsageError, match="at most 400 days"):
        check_window(date(2025, 1, 1), date(2025, 1, 1).fromordinal(
            date(2025, 1, 1).toordinal() + MAX_WINDOW_DAYS + 1))  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "one or more of"),
        ("day,", "one or more of"),
        ("week", "Unknown group_by 'week'"),
        ("day,Model", "Unknown group_by 'Model'"),
        ("day, model", "Unknown group_by ' model'"),
        ("model,day,model", "'model' more than once"),
    ],
)
def test_it_refuses_a_group_by_it_does_not_know(raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_group_by(raw)


def test_it_reads_a_group_by_list() -> None:
    assert parse_group_by("day,model,key") == ("day", "model", "key")
