"""What the Usage and Overview pages chart, built from observability.usage reports.

The pages embed this as JSON (Django's json_script, so no value can close the
script element) and dashboard/static/dashboard/usage.js draws it with the
vendored Chart.js. Server-side rather than a fetch of GET /api/v1/usage/:
one round trip, the page's own role check, nothing to authenticate twice, and
the window lives in the URL so a chart can be bookmarked and shared.

Amounts stay decimal strings here (money is never a float on our side); the
browser turns them into numbers only to draw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict
from uuid import UUID

from gateway.shared.money import nano_to_usd
from observability.usage import UsageGroup, days_of, names_for, usage_report
from tenants.models import Organization

MAX_MODELS = 7  # series of the cost chart; the other models add up to one "Other"
TOP = 10  # rows of the top keys and top projects tables


class CostSeries(TypedDict):
    label: str
    values: list[str]  # USD per day, decimal strings


class DailyCharts(TypedDict):
    days: list[str]
    cost_by_model: list[CostSeries]
    cost: list[str]
    requests: list[int]
    errors: list[int]
    input_tokens: list[int]
    output_tokens: list[int]
    latency_p50: list[int | None]
    latency_p95: list[int | None]


@dataclass(frozen=True)
class TopRow:
    """A key or project by spend: its name (or why it has none), figures and share of the top."""

    id: UUID | None
    name: str
    cost_nano: int
    requests: int
    errors: int
    share: int  # percent of the first row's cost, for the bar


@dataclass(frozen=True)
class UsageCharts:
    totals: UsageGroup
    daily: DailyCharts
    top_keys: list[TopRow]
    top_projects: list[TopRow]


def _by_cost(groups: list[UsageGroup]) -> list[UsageGroup]:
    return sorted(groups, key=lambda g: (-g.cost_nano, -g.requests))


def daily_charts(org: Organization, since: date, until: date) -> tuple[UsageGroup, DailyCharts]:
    """Per-day series over [since, until), a day without traffic as zero; and the totals."""
    days = days_of(since, until)
    index = {day: i for i, day in enumerate(days)}
    per_day = usage_report(org, since, until, ["day"])
    by_model = usage_report(org, since, until, ["day", "model"])

    zero = nano_to_usd(0)
    charts: DailyCharts = {
        "days": [day.isoformat() for day in days],
        "cost_by_model": [],
        "cost": [zero] * len(days),
        "requests": [0] * len(days),
        "errors": [0] * len(days),
        "input_tokens": [0] * len(days),
        "output_tokens": [0] * len(days),
        "latency_p50": [None] * len(days),
        "latency_p95": [None] * len(days),
    }
    for group in per_day.rows:
        i = index[group.keys["day"]]  # type: ignore[index]  # a day key is a date
        charts["cost"][i] = group.cost_usd
        charts["requests"][i] = group.requests
        charts["errors"][i] = group.errors
        charts["input_tokens"][i] = group.input_tokens
        charts["output_tokens"][i] = group.output_tokens
        charts["latency_p50"][i] = group.latency_ms_p50
        charts["latency_p95"][i] = group.latency_ms_p95

    model_cost: dict[str, int] = {}
    for group in by_model.rows:
        model = str(group.keys["model"] or "unknown")
        model_cost[model] = model_cost.get(model, 0) + group.cost_nano
    ranked = sorted(model_cost, key=lambda m: (-model_cost[m], m))
    # One model past the limit is shown by name: an "Other" of one model hides its name.
    named = ranked if len(ranked) <= MAX_MODELS + 1 else ranked[:MAX_MODELS]
    series: dict[str, list[int]] = {model: [0] * len(days) for model in named}
    if len(ranked) > len(named):
        series["Other"] = [0] * len(days)
    for group in by_model.rows:
        model = str(group.keys["model"] or "unknown")
        label = model if model in named else "Other"
        series[label][index[group.keys["day"]]] += group.cost_nano  # type: ignore[index]
    charts["cost_by_model"] = [
        {"label": label, "values": [nano_to_usd(nano) for nano in values]}
        for label, values in series.items()
    ]
    return per_day.totals, charts


def _top(org: Organization, since: date, until: date, name: str) -> list[TopRow]:
    report = usage_report(org, since, until, [name])
    groups = [g for g in _by_cost(report.rows) if g.requests or g.cost_nano][:TOP]
    names = names_for(org, groups)
    first = groups[0].cost_nano if groups else 0
    rows = []
    for group in groups:
        owner = group.keys[name]
        if not isinstance(owner, UUID):
            label = "No key (refused before one was read)" if name == "key" else "No project"
        else:
            label = names.of(name, owner) or f"Deleted {name} {str(owner)[:8]}"
        rows.append(
            TopRow(
                id=owner if isinstance(owner, UUID) else None,
                name=label,
                cost_nano=group.cost_nano,
                requests=group.requests,
                errors=group.errors,
                share=-(-100 * group.cost_nano // first) if first else 0,  # rounded up
            )
        )
    return rows


def usage_charts(org: Organization, since: date, until: date) -> UsageCharts:
    """Everything the Usage page shows for the window [since, until)."""
    totals, daily = daily_charts(org, since, until)
    return UsageCharts(
        totals=totals,
        daily=daily,
        top_keys=_top(org, since, until, "key"),
        top_projects=_top(org, since, until, "project"),
    )
