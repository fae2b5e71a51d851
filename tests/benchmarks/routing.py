"""Microbenchmark of choosing a deployment (Router.plan): p50/p99 per call.

    .venv/bin/python -m tests.benchmarks.routing [--iterations N]

Rows: each strategy over 3 and 5 deployments whose health is warm (every
one measured, one with failures in its window, one inside a 429's
retry-after), as a proxy process sees them between two background syncs.
Choosing reads only the process's own copy: no Redis round trip, so none is
timed. Each call is timed alone with time.perf_counter_ns after a warm-up.
Issue 6's target: at most 50 us p50. The machine is shared: compare rows of one run.
"""

from __future__ import annotations

import random
import sys
import time

from gateway.proxy.pricing import price_table
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.health import HealthBook, now_ms
from gateway.proxy.routing.router import Router
from gateway.shared.snapshot import DeploymentEntry, RouteEntry, Snapshot

ITERATIONS = 20_000
WARMUP = 2_000
ORG = "00000000-0000-0000-0000-000000000001"


def deployment(index: int) -> DeploymentEntry:
    return {
        "id": f"11111111-2222-3333-4444-555555555555:{index}",
        "provider": "openai" if index % 2 else "anthropic",
        "model": "gpt-4o-mini" if index % 2 else "claude-3-5-haiku-20241022",
        "api_base": None,
        "api_version": None,
        "provider_key_id": None,
        "weight": 1 + index,
        "quality": 50 + 10 * index,
        "price": None if index % 3 else {"input_per_mtok": "0.5", "output_per_mtok": "1.5"},
        "timeout_s": 600.0,
        "connect_timeout_s": 10.0,
    }


def snapshot(routes: dict[str, RouteEntry]) -> Snapshot:
    return {
        "org_id": ORG,
        "version": 1,
        "keys": {},
        "routes": routes,
        "provider_keys": {},
        "projects": {},
        "budgets": [],
        "budget_defaults": {
            "timezone": "UTC",
            "default_price": None,
            "default_max_output_tokens": None,
        },
    }


def warm_router(deployments: list[DeploymentEntry]) -> Router:
    config = RoutingConfig()
    book = HealthBook()
    rng = random.Random(7)
    for index, entry in enumerate(deployments):
        health = book.get(ORG, entry["id"])
        for _ in range(20):
            health.record_success(rng.randint(80, 400), False, config.ttfb_alpha)
        if index == 1:
            for _ in range(3):
                health.record_failure(now_ms(), config.breaker, False)
        if index == 2:
            health.record_retry_after(now_ms() + 3_600_000)
    return Router(config, book, price_table(), rng=rng)


def time_row(label: str, strategy: str, size: int, iterations: int) -> None:
    deployments = [deployment(i) for i in range(size)]
    route: RouteEntry = {"strategy": strategy, "min_quality": 50, "deployments": deployments}
    tenant = snapshot({"alias": route})
    router = warm_router(deployments)
    plan = router.plan
    for _ in range(WARMUP):
        plan(tenant, route, 120, 256)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        started = clock()
        plan(tenant, route, 120, 256)
        samples.append(clock() - started)
    samples.sort()
    p50 = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    print(f"{label:<28} p50 {p50:6.1f} us   p99 {p99:6.1f} us")


def main(argv: list[str]) -> None:
    iterations = ITERATIONS
    if "--iterations" in argv:
        iterations = int(argv[argv.index("--iterations") + 1])
    print(f"choosing a deployment (Router.plan), {iterations} calls per row, target p50 <= 50 us")
    for strategy in ("priority", "weighted", "latency", "cost"):
        for size in (3, 5):
            time_row(f"{strategy}, {size} deployments", strategy, size, iterations)


if __name__ == "__main__":
    main(sys.argv[1:])
