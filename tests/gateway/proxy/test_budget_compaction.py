"""A `total` budget keeps what was spent before the retention, as a client of the proxy sees it:
after the old entries are compacted and Redis loses everything, the rebuilt counter still
refuses what the budget cannot cover.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import openai
import pytest
from django.utils import timezone

from gateway.budgets.compaction import compact_expired_ledger
from gateway.budgets.ledger import rebuild_lost_counters
from gateway.budgets.models import LedgerDayTotal, LedgerEntry, LedgerKind
from gateway.shared import budget_layout as layout
from tenants.snapshots import publish_snapshot
from tests.conftest import Persona
from tests.factories.budgets import OUTPUT_ONLY, add_budget, budget_state, chat
from tests.gateway.proxy.conftest import Gateway

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_total_budget_spent_before_the_retention_still_refuses_after_a_redis_loss(
    gateway: Gateway, alice: Persona, redis_client: Any
) -> None:
    gateway.route("chat", {**gateway.openai_compatible("mock-chunks-30"), "price": OUTPUT_ONLY})
    budget = add_budget(gateway, alice, "0.035", period="total")  # 3.5 requests of 10 tokens
    label = layout.label(budget["id"], "total")
    # Two requests of 0.010 USD, settled 40 and 90 days ago (before the budget's counter
    # existed in this Redis): their entries as the drain wrote them.
    for days_ago in (40, 90):
        LedgerEntry.objects.create(
            org=alice.org,
            request_id=uuid.uuid4().hex,
            kind=LedgerKind.SETTLED,
            cost_nano=10_000_000,
            windows=[label],
            occurred_at=timezone.now() - timedelta(days=days_ago),
        )
    assert compact_expired_ledger().entries == 2
    assert not LedgerEntry.objects.filter(org=alice.org).exists()
    assert LedgerDayTotal.objects.filter(org=alice.org, counter=label).count() == 2

    redis_client.flushdb()  # Redis lost everything, its counters with it
    publish_snapshot(str(alice.org.id))  # beat republishes snapshots (tenants.tasks)
    assert rebuild_lost_counters() == [str(alice.org.id)]

    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.020000"
    chat(gateway)
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code == 402
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.030000"
