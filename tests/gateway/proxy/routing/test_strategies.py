"""The strategies' orders, as pure functions of scores, weights, prices and randomness."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.routing.strategies import cost_order, latency_order, weighted_order


def never() -> float:
    return 0.99


def test_latency_puts_the_lowest_score_first_and_keeps_the_rest_ranked() -> None:
    assert latency_order(["a", "b", "c"], [300.0, 20.0, 90.0], never, 0.05) == ["b", "c", "a"]


def test_latency_ties_keep_the_routes_order() -> None:
    assert latency_order(["a", "b", "c"], [0.0, 0.0, 0.0], never, 0.05) == ["a", "b", "c"]


def test_latency_explores_another_deployment_about_as_often_as_configured() -> None:
    rng = random.Random(1)
    firsts = Counter(
        latency_order(["fast", "slow"], [10.0, 500.0], rng.random, 0.05)[0] for _ in range(20_000)
    )
    assert 0.04 < firsts["slow"] / 20_000 < 0.06


@given(
    scores=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=8),
    seed=st.integers(),
)
def test_latency_always_returns_every_deployment_once(scores: list[float], seed: int) -> None:
    items = list(range(len(scores)))
    ordered = latency_order(items, scores, random.Random(seed).random, 0.5)
    assert sorted(ordered) == items


def test_weighted_picks_first_in_proportion_to_weight() -> None:
    rng = random.Random(2)
    firsts = Counter(weighted_order(["a", "b"], [1, 3], rng.random)[0] for _ in range(20_000))
    assert 0.72 < firsts["b"] / 20_000 < 0.78


@given(
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8),
    seed=st.integers(),
)
def test_weighted_returns_a_permutation(weights: list[int], seed: int) -> None:
    items = list(range(len(weights)))
    assert sorted(weighted_order(items, weights, random.Random(seed).random)) == items


def test_cost_orders_by_price_among_those_meeting_the_floor() -> None:
    ordered = cost_order(
        ["premium", "cheap-bad", "cheap-good", "mid", "no-quality"],
        [900, 10, 50, 200, 1],
        [95, 40, 80, 85, None],
        min_quality=70,
    )
    assert ordered == ["cheap-good", "mid", "premium"]


def test_cost_without_a_floor_takes_everything_and_puts_unpriced_last() -> None:
    ordered = cost_order(["a", "b", "c"], [None, 30, 20], [None, None, 10], None)
    assert ordered == ["c", "b", "a"]


@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
            st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
        ),
        min_size=1,
        max_size=8,
    ),
    floor=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
)
def test_cost_never_serves_below_the_floor_and_never_ranks_a_dearer_one_first(
    rows: list[tuple[int | None, int | None]], floor: int | None
) -> None:
    costs = [cost for cost, _ in rows]
    qualities = [quality for _, quality in rows]
    ordered = cost_order(list(range(len(rows))), costs, qualities, floor)
    for index in ordered:
        quality = qualities[index]
        assert floor is None or (quality is not None and quality >= floor)
    priced = [cost for cost in (costs[i] for i in ordered) if cost is not None]
    assert priced == sorted(priced)
    assert all(costs[i] is None for i in ordered[len(priced) :])
