"""The four strategies: a route's deployments in the order they should be tried.

Each returns the whole ordered list (first choice, then the fallbacks); the
router then drops what is blocked. Pure functions of their inputs (the
randomness is passed in), so they are tested without a proxy.

    priority   the route's order
    weighted   a random order, each next pick proportional to weight
               (Efraimidis-Spirakis: sort by u ** (1 / weight), u uniform in (0, 1))
    latency    lowest score first (TTFB moving average x error-rate penalty,
               health.latency_score); with probability `exploration` another
               deployment goes first, so a recovered one is measured again
    cost       cheapest at the request's expected size among those whose
               quality >= min_quality (no quality = below any floor); those
               below the floor are not tried; unpriced deployments go last
               (admission refuses to serve them anyway)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def weighted_order(
    items: Sequence[T], weights: Sequence[int], random: Callable[[], float]
) -> list[T]:
    keyed = [
        ((1.0 - random()) ** (1.0 / max(weight, 1)), index) for index, weight in enumerate(weights)
    ]
    keyed.sort(reverse=True)
    return [items[index] for _, index in keyed]


def latency_order(
    items: Sequence[T],
    scores: Sequence[float],
    random: Callable[[], float],
    exploration: float,
) -> list[T]:
    order = sorted(range(len(items)), key=scores.__getitem__)  # stable: ties keep route order
    if len(order) > 1 and random() < exploration:
        # Explore: one of the others, uniformly, goes first; the rest keep their rank.
        pick = 1 + min(int(random() * (len(order) - 1)), len(order) - 2)
        order.insert(0, order.pop(pick))
    return [items[index] for index in order]


def cost_order(
    items: Sequence[T],
    costs: Sequence[int | None],
    qualities: Sequence[int | None],
    min_quality: int | None,
) -> list[T]:
    """Cheapest first among those meeting the floor; unpriced (None) last; ties keep route order."""
    eligible = [
        index
        for index, quality in enumerate(qualities)
        if min_quality is None or (quality is not None and quality >= min_quality)
    ]
    eligible.sort(key=lambda index: (costs[index] is None, costs[index] or 0))
    return [items[index] for index in eligible]
