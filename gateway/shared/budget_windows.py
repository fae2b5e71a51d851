"""Budget periods as windows: which counter a request at a given instant is charged to.

A `day` or `month` budget is a calendar period in the org's time zone (UTC
unless the org chose another); `total` never resets; `request` is a cap on
one request and has no counter. A window's id is part of the counter's Redis
key and of every ledger entry, so the proxy, the reaper and the rebuild agree
on where a cost belongs without sharing anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PERIODS = ("request", "day", "month", "total")
COUNTED_PERIODS = ("day", "month", "total")
# A counter outlives its window by this much, so a late settlement or the
# reaper still finds it; the ledger keeps the history for good (per request
# for the retention, then as per-day totals: gateway.budgets.compaction).
_GRACE = timedelta(days=2)


@dataclass(frozen=True)
class Window:
    id: str  # "d2026-11-23", "m2026-11" or "total"
    starts_at: datetime | None  # aware, UTC; None for total
    ends_at: datetime | None  # aware, UTC; None for total

    def expire_at_ms(self) -> int:
        """When the counter may be dropped from Redis; 0 = keep."""
        if self.ends_at is None:
            return 0
        return int((self.ends_at + _GRACE).timestamp() * 1000)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def window_for(period: str, at: datetime, timezone: str = "UTC") -> Window:
    """The window of `period` containing the aware instant `at`, in `timezone`."""
    if period == "total":
        return Window("total", None, None)
    zone = _zone(timezone)
    local = at.astimezone(zone)
    if period == "day":
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        # Add a calendar day in local time (23 or 25 hours across a DST change).
        nxt = (start + timedelta(days=1, hours=12)).replace(hour=0)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
        return Window(f"d{local:%Y-%m-%d}", start.astimezone(UTC), end.astimezone(UTC))
    if period == "month":
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        end = datetime(year, month, 1, tzinfo=zone)
        return Window(f"m{local:%Y-%m}", start.astimezone(UTC), end.astimezone(UTC))
    raise ValueError(f"period {period!r} has no window")


def counter_key(org_id: str, budget_id: str, window_id: str) -> str:
    """Hash {spent, reserved} in nano-USD for one budget in one window."""
    return f"sel:{{{org_id}}}:budget:{budget_id}:{window_id}"
