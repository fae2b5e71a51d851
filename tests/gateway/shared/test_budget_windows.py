"""Budget periods: every instant falls in exactly one window, in the org's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from gateway.shared.budget_windows import window_for

# Santiago changes its clocks at midnight; Lord Howe by half an hour; Apia skipped a day.
ZONES = st.sampled_from(
    [
        "UTC",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Pacific/Apia",
        "Australia/Lord_Howe",
        "America/Santiago",
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(at=INSTANTS, zone=ZONES, period=st.sampled_from(["day", "month"]))
def test_an_instant_lies_inside_its_window(at: datetime, zone: str, period: str) -> None:
    window = window_for(period, at, zone)
    assert window.starts_at is not None and window.ends_at is not None
    assert window.starts_at <= at < window.ends_at


@given(at=INSTANTS, zone=ZONES, period=st.sampled_from(["day", "month"]))
def test_windows_follow_each_other_without_gap_or_overlap(
    at: datetime, zone: str, period: str
) -> None:
    window = window_for(period, at, zone)
    assert window.ends_at is not None and window.starts_at is not None
    following = window_for(period, window.ends_at, zone)
    assert following.starts_at == window.ends_at
    assert following.id != window.id
    before = window_for(period, window.starts_at - timedelta(microseconds=1), zone)
    assert before.ends_at == window.starts_at


@given(at=INSTANTS, zone=ZONES)
def test_a_day_is_a_calendar_day_in_the_zone(at: datetime, zone: str) -> None:
    window = window_for("day", at, zone)
    assert window.starts_at is not None and window.ends_at is not None
    # 23 to 25 hours across a daylight-saving change (Lord Howe shifts by 30 minutes).
    assert timedelta(hours=23) <= window.ends_at - window.starts_at <= timedelta(hours=25)
    assert window.id == f"d{at.astimezone(ZoneInfo(zone)):%Y-%m-%d}"


def test_the_total_period_never_rolls_over() -> None:
    first = window_for("total", datetime(2001, 1, 1, tzinfo=UTC))
    assert first == window_for("total", datetime(2099, 1, 1, tzinfo=UTC))
    assert first.expire_at_ms() == 0
