# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""Budgets and rate limits as an application sees them: SDKs -> real proxy -> mock provider.

Prices are chosen so a request's worst case equals its actual cost: input is
free and the mock answers exactly max_tokens words (chunks:N, N >= max_tokens),
so a budget of N x cost admits exactly N requests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from django.core.management import CommandError, call_command

from gateway.budgets.ledger import rebuild_lost_counters, reconcile
from gateway.budgets.models import LedgerEntry
from gateway.shared import budget_layout as layout
from observability.drain import drain_usage_stream
from tenants.snapshots import publish_snapshot
from tests.conftest import Persona
from tests.factories.budgets import OUTPUT_ONLY, add_budget, budget_state, chat
from tests.gateway.proxy.conftest import Gateway

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_USD = Decimal("0.001")


def priced(gateway: Gateway, model: str, price: dict[str, str] = OUTPUT_ONLY) -> dict[str, Any]:
    return {**gateway.openai_compatible(model), "price": price}


def test_costs_are_charged_and_shown_and_a_budget_blocks_with_402(
    gateway: Gateway, alice: Persona
) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    budget = add_budget(gateway, alice, "0.025")  # 2.5 requests of 10 tokens
    first = chat(gateway)
    assert first.parse().usage.completion_tokens == 10
    assert first.headers["x-selixes-cost-usd"] == "0.010000"
    assert first.headers["x-selixes-budget-remaining-usd"] == "0.015000"
    chat(gateway)
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code == 402
    assert refused.value.code == "budget_exceeded"
    assert refused.value.response.headers["x-should-retry"] == "false"
    # A smaller request still fits the 0.005 left: budgets reserve the worst case only.
    assert chat(gateway, max_tokens=5).headers["x-selixes-cost-usd"] == "0.005000"
    state = budget_state(gateway, budget["id"])
    assert (state["spent_usd"], state["reserved_usd"], state["remaining_usd"]) == (
        "0.025000",
        "0.000000",
        "0.000000",
    )
    assert gateway.recorded()["total"] == 3  # the refused request never left


def test_a_refusal_names_the_budget_that_refused_what_it_has_left_and_the_requests_worst_case(
    gateway: Gateway, alice: Persona
) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    add_budget(gateway, alice, "100", period="day")  # roomy: never named
    add_budget(gateway, alice, "0.025")  # a month: 2 requests of 10 tokens, 0.005 left
    chat(gateway)
    chat(gateway)
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code == 402
    assert refused.value.body == {
        "message": "The organization budget of $0.025 per month has $0.005 left this month;"
        " this request may cost up to $0.01 on mock-chunks-30.",
        "type": "budget_exceeded",
        "code": "budget_exceeded",
        "param": None,
    }
    with pytest.raises(openai.APIStatusError) as capped:
        add_budget(gateway, alice, "0.005", period="request")
        chat(gateway, max_tokens=6)
    assert capped.value.message.endswith(
        "The organization budget of $0.005 per request cannot cover this request,"
        " which may cost up to $0.006 on mock-chunks-30."
    )


def test_a_stream_carries_its_cost_in_its_last_comment_line(gateway: Gateway) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.key}"},
        json={
            "model": "chat",
            "stream": True,
            "max_tokens": 4,
            "messages": [{"role": "user", "content": "hi"}],
        },
    ) as response:
        body = response.read().decode()
    assert body.rstrip().splitlines()[-1] == ": x-selixes-cost-usd=0.004000"


def test_without_a_max_tokens_the_upstream_request_is_held_to_what_was_reserved(
    gateway: Gateway, alice: Persona
) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    messages = [{"role": "user", "content": "no limit given"}]
    gateway.openai().chat.completions.create(model="chat", messages=messages)
    # No budget: nothing is reserved, and the request goes as written.
    assert "max_tokens" not in gateway.recorded()["last"]["body"]
    add_budget(gateway, alice, "100")
    gateway.openai().chat.completions.create(model="chat", messages=messages)
    # An unknown model's maximum: the documented 4096, sent as the provider's max_tokens.
    assert gateway.recorded()["last"]["body"]["max_tokens"] == 4096


def test_a_provider_reporting_more_than_reserved_is_cut_not_overspent(
    gateway: Gateway, alice: Persona
) -> None:
    # reasoning:40 makes the mock report 40 tokens beyond the max_tokens it obeyed.
    gateway.route("chat", priced(gateway, "mock-chunks-30-reasoning-40"))
    budget = add_budget(gateway, alice, "1")
    stream = gateway.openai().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "think hard"}],
        max_tokens=5,
        stream=True,
        stream_options={"include_usage": True},
    )
    with pytest.raises(openai.APIError, match="exceeded the tokens reserved"):
        list(stream)
    # Charged what was reserved (5 tokens), never the 45 reported.
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.005000"


def test_a_fallback_budget_moves_to_the_cheaper_deployment(
    gateway: Gateway, alice: Persona
) -> None:
    dear = priced(gateway, "mock-chunks-30", {"input_per_mtok": "0", "output_per_mtok": "100000"})
    cheap = priced(gateway, "mock-chunks-31")
    gateway.route("chat", dear, cheap)
    add_budget(gateway, alice, "0.5", on_exhausted="fallback")  # dear costs 1 USD here
    response = chat(gateway)
    assert response.headers["x-selixes-model"] == "mock-chunks-31"
    # A blocking budget that cannot cover the first choice refuses, even though
    # the other budget would fall back.
    add_budget(gateway, alice, "0.5", period="day", on_exhausted="block")
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code == 402


def test_a_per_request_cap_refuses_only_the_big_requests(gateway: Gateway, alice: Persona) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    add_budget(gateway, alice, "0.005", period="request")
    assert chat(gateway, max_tokens=5).status_code == 200
    with pytest.raises(openai.APIStatusError, match="per request") as refused:
        chat(gateway, max_tokens=6)
    assert refused.value.status_code == 402


def test_rpm_limits_answer_429_with_retry_after_and_do_not_count_refusals(
    gateway: Gateway, alice: Persona
) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    key_id = gateway.api.get("/api/v1/keys/").json()[0]["id"]
    patched = gateway.api.patch(f"/api/v1/keys/{key_id}/", {"rpm_limit": 2}, format="json")
    assert patched.status_code == 200, patched.content
    # No wait: the proxy has served nothing of this org yet, so its first
    # request reads the snapshot that already has the limit.
    chat(gateway)
    chat(gateway)
    for _ in range(3):
        with pytest.raises(openai.RateLimitError) as limited:
            chat(gateway)
    retry_after = int(limited.value.response.headers["retry-after"])
    # A sliding window frees room at most two windows later.
    assert 1 <= retry_after <= 120
    assert limited.value.code == "rate_limit_exceeded"
    assert gateway.recorded()["total"] == 2


def test_a_model_without_a_price_is_refused(gateway: Gateway) -> None:
    unpriced = gateway.openai_compatible("gpt-mock")
    del unpriced["price"]
    gateway.route("chat", unpriced)
    with pytest.raises(openai.BadRequestError, match="No price is known"):
        chat(gateway)
    assert gateway.recorded()["total"] == 0


def test_the_ledger_holds_every_settlement_and_rebuilds_lost_counters(
    gateway: Gateway, alice: Persona, redis_client: Any
) -> None:
    gateway.route("chat", priced(gateway, "mock-chunks-30"))
    budget = add_budget(gateway, alice, "1")
    for _ in range(3):
        chat(gateway)
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.030000"
    drain_usage_stream()
    entries = LedgerEntry.objects.filter(org=alice.org)
    assert sorted(e.cost_nano for e in entries) == [10_000_000] * 3
    assert all(e.windows and e.windows[0].startswith(budget["id"]) for e in entries)
    assert reconcile() == []
    counter = layout.counter_key_of(str(alice.org.id), entries[0].windows[0])
    redis_client.hincrby(counter, "spent", 7)  # drift, as a lost settlement would leave
    with pytest.raises(CommandError, match="1 budget counters differ"):
        call_command("budget_reconcile")
    redis_client.hincrby(counter, "spent", -7)

    redis_client.flushdb()  # Redis lost everything
    publish_snapshot(str(alice.org.id))  # beat republishes snapshots (tenants.tasks)
    with pytest.raises(openai.APIStatusError) as waiting:
        chat(gateway)
    assert waiting.value.status_code == 503  # fail closed until rebuilt
    assert rebuild_lost_counters() == [str(alice.org.id)]
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.030000"
    chat(gateway)
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.040000"
