"""Router.plan: the strategy's order minus what is blocked, from this process's health copy."""

from __future__ import annotations

import asyncio
import random

from gateway.proxy.pricing import price_table
from gateway.proxy.routing.breaker import Breaker
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.router import Router, expected_size
from gateway.shared.snapshot import DeploymentEntry, PriceEntry, RouteEntry, Snapshot

# Short: a plan is read as a line of deployments.
from tests.factories.routing import deployment_entry as deployment

ORG = "org-r"


def route(strategy: str, *deployments: DeploymentEntry, floor: int | None = None) -> RouteEntry:
    return {"strategy": strategy, "min_quality": floor, "deployments": list(deployments)}


def tenant() -> Snapshot:
    return {  # type: ignore[typeddict-item]  # the fields routing reads
        "org_id": ORG,
        "version": 1,
        "budget_defaults": {"timezone": "UTC", "default_price": None},
    }


def router() -> Router:
    return Router(RoutingConfig(), HealthBook(), price_table(), rng=random.Random(3))


def models(entries: list[DeploymentEntry]) -> list[str]:
    return [entry["model"] for entry in entries]


def price(input_usd: str, output_usd: str) -> PriceEntry:
    return {"input_per_mtok": input_usd, "output_per_mtok": output_usd}


def test_priority_keeps_the_routes_order() -> None:
    plan = router().plan(tenant(), route("priority", deployment("a"), deployment("b")))
    assert models(plan.candidates) == ["a", "b"]


def test_an_open_breaker_and_a_retry_after_are_skipped() -> None:
    r = router()
    r.book.get(ORG, "route:a").breaker = Breaker(open=True, opened_ms=now_ms())
    r.book.get(ORG, "route:b").record_retry_after(now_ms() + 60_000)
    plan = r.plan(
        tenant(),
        route("priority", deployment("a"), deployment("b"), deployment("c")),
    )
    assert models(plan.candidates) == ["c"]


def test_when_everything_is_blocked_the_soonest_to_reopen_goes_alone_as_a_probe() -> None:
    r = router()
    r.book.get(ORG, "route:a").breaker = Breaker(open=True, opened_ms=now_ms())
    r.book.get(ORG, "route:b").breaker = Breaker(open=True, opened_ms=now_ms() - 20_000)
    r.book.get(ORG, "route:c").record_retry_after(now_ms() + 25_000)
    plan = r.plan(
        tenant(),
        route("priority", deployment("a"), deployment("b"), deployment("c")),
    )
    assert models(plan.candidates) == ["b"]
    assert plan.probing == {"route:b"}


def test_when_every_deployment_is_inside_a_retry_after_none_is_tried() -> None:
    r = router()
    r.book.get(ORG, "route:a").record_retry_after(now_ms() + 9_000)
    r.book.get(ORG, "route:b").record_retry_after(now_ms() + 4_000)
    plan = r.plan(tenant(), route("priority", deployment("a"), deployment("b")))
    assert plan.candidates == []
    assert 3_000 < plan.retry_after_ms <= 4_000


def test_a_half_open_deployment_granted_a_probe_goes_first() -> None:
    r = router()  # no sync: every probe is granted
    r.book.get(ORG, "route:b").breaker = Breaker(open=True, opened_ms=now_ms() - 31_000)
    plan = r.plan(tenant(), route("priority", deployment("a"), deployment("b")))
    assert models(plan.candidates) == ["a"]
    assert models(asyncio.run(r.candidates(plan))) == ["b", "a"]
    assert plan.probing == {"route:b"}


def test_a_request_takes_one_probe_however_many_deployments_are_half_open() -> None:
    # A granted probe slot blocks every other process until it expires; a
    # request uses one at most, so it asks for one at most.
    r = router()
    for name in ("a", "b", "c"):
        r.book.get(ORG, f"route:{name}").breaker = Breaker(open=True, opened_ms=now_ms() - 31_000)
    plan = r.plan(
        tenant(),
        route("priority", deployment("a"), deployment("b"), deployment("c")),
    )
    assert models(asyncio.run(r.candidates(plan))) == ["a"]
    assert plan.probing == {"route:a"}


def test_cost_picks_the_cheapest_deployment_meeting_the_floor() -> None:
    plan = router().plan(
        tenant(),
        route(
            "cost",
            deployment("premium", 95, price("10", "30")),
            deployment("cheap-weak", 40, price("0.1", "0.2")),
            deployment("cheap-good", 80, price("0.5", "1.5")),
            deployment("unrated", None, price("0.01", "0.01")),
            floor=70,
        ),
        input_tokens=500,
        output_tokens=256,
    )
    assert models(plan.candidates) == ["cheap-good", "premium"]


def test_cost_weighs_input_and_output_at_the_requests_size() -> None:
    reader = deployment("reader", 80, price("0.1", "10"))  # cheap prompt, dear answer
    writer = deployment("writer", 80, price("5", "0.5"))  # dear prompt, cheap answer
    r = router()
    long_prompt = r.plan(tenant(), route("cost", writer, reader), 100_000, 10)
    long_answer = r.plan(tenant(), route("cost", writer, reader), 10, 4_000)
    assert models(long_prompt.candidates)[0] == "reader"
    assert models(long_answer.candidates)[0] == "writer"


def test_latency_prefers_the_lower_moving_average_and_penalises_errors() -> None:
    r = router()
    config = r.config
    slow, fast = r.book.get(ORG, "route:slow"), r.book.get(ORG, "route:fast")
    for _ in range(5):
        slow.record_success(200, False, config.ttfb_alpha)
        fast.record_success(50, False, config.ttfb_alpha)
    entries = route("latency", deployment("slow"), deployment("fast"))
    firsts = [models(r.plan(tenant(), entries).candidates)[0] for _ in range(1000)]
    assert firsts.count("fast") > 900  # the rest is exploration
    for _ in range(5):  # half of the fast one's requests fail: 50 ms x (1 + 10 x 0.5) > 200 ms
        fast.record_failure(now_ms(), config.breaker, probing=False)
    fast.breaker = Breaker()  # only the penalty is tested here, not the breaker
    firsts = [models(r.plan(tenant(), entries).candidates)[0] for _ in range(1000)]
    assert firsts.count("slow") > 900


def test_expected_size_reads_the_requests_output_limit() -> None:
    body = {"messages": [], "max_tokens": 40}
    assert expected_size(body, 400, "openai", "chat") == (100, 40)
    assert expected_size({"messages": []}, 400, "openai", "chat") == (100, 256)
    assert expected_size({"input": "x"}, 400, "openai", "embeddings") == (100, 0)
