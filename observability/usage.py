"""An org's usage over a window of UTC days, grouped as asked, read from the daily rollups only.

GET /api/v1/usage/, the dashboard's Usage and Overview pages and the spend
columns all read this. It never scans the request log: UsageRollup holds one
row per day and combination of what usage groups by (the drain adds to it in
the transaction that writes the log), so a 30-day report reads a few thousand
rows however many requests there were. Sums are exact integers (cost in
nano-USD, shown at the edge as a six-place decimal string, rounded up as
everywhere in money); latency percentiles come from the merged histograms
(observability.latency_histogram), so any grouping has its own p50/p95.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import add
from typing import Any, TypedDict
from uuid import UUID

from django.db import connection
from django.db.models import Sum

from gateway.shared.money import nano_to_usd
from observability import latency_histogram
from observability.models import UsageRollup
from tenants.models import ApiKey, Organization, Project, User

# What a report may group by, in the API's words, and the rollup column behind each.
GROUP_COLUMNS: dict[str, str] = {
    "day": "day",
    "model": "model",
    "provider": "provider",
    "project": "project_id",
    "key": "key_id",
    "user": "user_id",
    "status": "status",
    "task": "task",
}
GROUP_BY = tuple(GROUP_COLUMNS)
MAX_WINDOW_DAYS = 400
_SUMMED = (
    "requests",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_nano",
)

GroupKey = date | str | int | UUID | None


class UsageError(ValueError):
    """A window or grouping the report cannot be asked for; `param` names the culprit."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class UsageFigures(TypedDict):
    """What every row and the totals carry, in the API's shape (CONTRACT.md section 4)."""

    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost_usd: str
    latency_ms_p50: int | None
    latency_ms_p95: int | None


@dataclass
class UsageGroup:
    """One row of a report: its group keys and exact sums; cost in nano-USD."""

    keys: dict[str, GroupKey]
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nano: int = 0
    latency_hist: list[int] = field(default_factory=lambda: [0] * latency_histogram.BUCKETS)

    def add(self, sums: Sequence[int], histogram: Sequence[int]) -> None:
        self.requests += sums[0]
        self.errors += sums[1]
        self.input_tokens += sums[2]
        self.output_tokens += sums[3]
        self.cached_input_tokens += sums[4]
        self.reasoning_tokens += sums[5]
        self.cost_nano += sums[6]
        if not histogram:
            return
        if len(histogram) == latency_histogram.BUCKETS:
            # map() adds in C: a month of rollups is thousands of 80-bucket rows.
            self.latency_hist = list(map(add, self.latency_hist, histogram))
        else:  # a shorter one, from an older layout
            self.latency_hist = latency_histogram.merged((self.latency_hist, histogram))

    def absorb(self, other: UsageGroup) -> None:
        self.add(
            (
                other.requests,
                other.errors,
                other.input_tokens,
                other.output_tokens,
                other.cached_input_tokens,
                other.reasoning_tokens,
                other.cost_nano,
            ),
            other.latency_hist,
        )

    @property
    def cost_usd(self) -> str:
        return nano_to_usd(self.cost_nano)

    @property
    def latency_ms_p50(self) -> int | None:
        return latency_histogram.percentile(self.latency_hist, 50)

    @property
    def latency_ms_p95(self) -> int | None:
        return latency_histogram.percentile(self.latency_hist, 95)

    def figures(self) -> UsageFigures:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost_usd": self.cost_usd,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
        }


@dataclass
class UsageReport:
    since: date
    until: date  # exclusive
    group_by: tuple[str, ...]
    rows: list[UsageGroup]
    totals: UsageGroup


def check_window(since: date, until: date) -> None:
    """Refuse an empty or backwards window, and one longer than MAX_WINDOW_DAYS."""
    if since >= until:
        raise UsageError("to", "'to' must be after 'from' ('to' is exclusive).")
    if (until - since).days > MAX_WINDOW_DAYS:
        raise UsageError(
            "to", f"The window may span at most {MAX_WINDOW_DAYS} days; ask for a shorter one."
        )


def parse_group_by(raw: str) -> tuple[str, ...]:
    """Read a comma-separated group_by (no spaces); unknown, repeated or empty names are refused."""
    names = tuple(raw.split(","))
    if any(not name for name in names):
        raise UsageError(
            "group_by", f"'group_by' names one or more of {', '.join(GROUP_BY)}, comma-separated."
        )
    for name in names:
        if name not in GROUP_COLUMNS:
            raise UsageError(
                "group_by",
                f"Unknown group_by '{name[:40]}'; use one or more of {', '.join(GROUP_BY)}.",
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UsageError("group_by", f"group_by names '{repeated[0]}' more than once.")
    return names


def _sort_key(group: UsageGroup, group_by: Sequence[str]) -> tuple[tuple[int, str | int], ...]:
    """Each key ascending in the order group_by names them; a missing (null) one last."""
    parts: list[tuple[int, str | int]] = []
    for name in group_by:
        value = group.keys[name]
        if value is None:
            parts.append((1, ""))
        elif isinstance(value, int):
            parts.append((0, value))
        else:
            parts.append((0, str(value)))  # ISO days and UUIDs sort as their text does
    return tuple(parts)


def _key_value(name: str, value: object) -> GroupKey:
    if name in ("model", "provider", "task") and value == "":
        return None  # blank in the rollup means "none": say so the way ids do
    assert value is None or isinstance(value, date | str | int | UUID)
    return value


def usage_report(
    org: Organization, since: date, until: date, group_by: Sequence[str] = ("day",)
) -> UsageReport:
    """Sum the org's rollups of the days [since, until) into one row per group, plus totals."""
    check_window(since, until)
    unknown = [name for name in group_by if name not in GROUP_COLUMNS]
    if unknown or len(set(group_by)) != len(group_by):
        raise UsageError("group_by", f"Cannot group by {', '.join(group_by)}.")
    if not group_by:
        raise UsageError("group_by", "Group by at least one of " + ", ".join(GROUP_BY) + ".")
    columns = [GROUP_COLUMNS[name] for name in group_by]
    width = len(columns)
    groups: dict[tuple[object, ...], UsageGroup] = {}
    for row in _group_sums(org, since, until, columns):
        keys = {name: _key_value(name, value) for name, value in zip(group_by, row, strict=False)}
        sums = [int(total or 0) for total in row[width : width + len(_SUMMED)]]
        histogram = [int(count or 0) for count in row[width + len(_SUMMED) :]]
        groups[row[:width]] = group = UsageGroup(keys=keys)
        group.add(sums, histogram)
    totals = UsageGroup(keys={})
    for group in groups.values():  # fewer groups than rows: sum them, not the rows, again
        totals.absorb(group)
    ordered = sorted(groups.values(), key=lambda g: _sort_key(g, group_by))
    return UsageReport(since, until, tuple(group_by), ordered, totals)


def _group_sums(
    org: Organization, since: date, until: date, columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(*group key, *sums of _SUMMED, *histogram bucket sums) of each group, in one statement.

    PostgreSQL adds the histograms with one sum() per bucket: reading the rows'
    histograms into Python took ten times the whole aggregation, and unnesting
    them into (bucket, count) rows twice as long as this (make bench-storage).
    """
    if not set(columns) <= set(GROUP_COLUMNS.values()):
        raise ValueError(f"not rollup group columns: {columns}")
    quote = connection.ops.quote_name
    keys = ", ".join(quote(column) for column in columns)
    summed = ", ".join(f"sum({quote(name)})" for name in _SUMMED)
    buckets = ", ".join(f"sum(latency_hist[{i}])" for i in range(1, latency_histogram.BUCKETS + 1))
    # Names only from GROUP_COLUMNS (checked above), _SUMMED and the model's
    # table; values are parameters.
    sql = (
        f"SELECT {keys}, {summed}, {buckets}"  # noqa: S608
        f" FROM {quote(UsageRollup._meta.db_table)}"
        " WHERE org_id = %s AND day >= %s AND day < %s"
        f" GROUP BY {keys}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [org.id, since, until])
        return [tuple(row) for row in cursor.fetchall()]


def spend_by(org: Organization, name: str, since: date, until: date) -> dict[UUID, int]:
    """Nano-USD spent per project or key (`name`) over [since, until): the spend columns."""
    if name not in ("project", "key", "user"):
        raise UsageError("group_by", f"Spend is summed per project, key or user, not {name}.")
    column = GROUP_COLUMNS[name]
    rows = (
        UsageRollup.objects.filter(org=org, day__gte=since, day__lt=until)
        .exclude(**{column: None})
        .values_list(column)
        .annotate(total=Sum("cost_nano"))
    )
    return {owner: int(total) for owner, total in rows}


def this_month(today: date) -> tuple[date, date]:
    """The UTC calendar month so far, as a window: its first day to tomorrow (exclusive)."""
    return today.replace(day=1), today + timedelta(days=1)


def days_of(since: date, until: date) -> list[date]:
    """Every day of [since, until), for charts that show a day with no traffic as zero."""
    return [since + timedelta(days=n) for n in range((until - since).days)]


@dataclass(frozen=True)
class Names:
    """Readable names for the ids a report holds: projects, keys (name and prefix) and users."""

    projects: dict[UUID, str]
    keys: dict[UUID, str]
    users: dict[UUID, str]

    def of(self, name: str, value: GroupKey) -> str | None:
        if not isinstance(value, UUID):
            return None
        table = {"project": self.projects, "key": self.keys, "user": self.users}.get(name)
        return table.get(value) if table is not None else None


def names_for(org: Organization, groups: Iterable[UsageGroup]) -> Names:
    """Look up, within the org only, the names of the projects, keys and users in `groups`."""
    wanted: dict[str, set[UUID]] = {"project": set(), "key": set(), "user": set()}
    for group in groups:
        for name, ids in wanted.items():
            value = group.keys.get(name)
            if isinstance(value, UUID):
                ids.add(value)
    projects = dict(
        Project.objects.filter(org=org, id__in=wanted["project"]).values_list("id", "name")
    )
    keys = {
        key_id: f"{name} ({prefix}…)"
        for key_id, name, prefix in ApiKey.objects.filter(
            org=org, id__in=wanted["key"]
        ).values_list("id", "name", "prefix")
    }
    users = dict(
        User.objects.filter(memberships__org=org, id__in=wanted["user"]).values_list("id", "email")
    )
    return Names(projects=projects, keys=keys, users=users)
