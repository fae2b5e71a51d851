"""seed_request_log makes request-log rows and rollups that total exactly what the rows hold."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from observability.latency_histogram import histogram_of
from observability.models import RequestLog, UsageRollup
from tests.conftest import Persona


def test_the_seeded_rollups_match_the_seeded_log(alice: Persona) -> None:
    call_command("seed_request_log", rows=3000, org=alice.org.slug, days=3, stdout=io.StringIO())

    rows = RequestLog.objects.filter(org=alice.org)
    assert rows.count() == 3000
    assert rows.filter(status__gte=400).exists() and rows.filter(status=200).exists()
    totals = UsageRollup.objects.filter(org=alice.org).aggregate(
        requests=Sum("requests"), errors=Sum("errors"), tokens=Sum("input_tokens"),
        cost=Sum("cost_nano"),
    )  # fmt: skip
    cost = rows.aggregate(total=Sum("cost_usd"))["total"] or Decimal(0)
    assert totals == {
        "requests": 3000,
        "errors": rows.filter(status__gte=400).count(),
        "tokens": rows.aggregate(total=Sum("input_tokens"))["total"],
        "cost": int(cost * 10**9),
    }
    latencies: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for row in rows:
        model = row.model_dispatched or row.model_requested
        latencies[(row.created_at.date(), row.key_id, model, row.status)].append(row.latency_ms)
    histograms = {
        (r.day, r.key_id, r.model, r.status): r.latency_hist
        for r in UsageRollup.objects.filter(org=alice.org)
    }
    assert histograms == {key: histogram_of(values) for key, values in latencies.items()}


def test_it_refuses_an_unknown_org(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("seed_request_log", rows=10, org="no-such-org", stdout=io.StringIO())
