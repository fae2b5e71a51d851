"""Latency as a fixed log-scale histogram, so percentiles of any grouping merge from daily rows.

Bucket 0 holds 0 ms; bucket i >= 1 holds [GROWTH**(i-1), GROWTH**i) ms, the
last one everything longer. A percentile is read as the geometric middle of
the bucket it falls in: within about 10% of the true value, which is what a
chart of p50/p95 needs; the request log keeps each exact latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

GROWTH = 1.2
BUCKETS = 80  # GROWTH**79 ms is about 30 minutes: past any deadline
_LOG_GROWTH = math.log(GROWTH)


def bucket_of(latency_ms: int) -> int:
    if latency_ms < 1:
        return 0
    return min(BUCKETS - 1, 1 + int(math.log(latency_ms) / _LOG_GROWTH))


def histogram_of(latencies: Iterable[int]) -> list[int]:
    counts = [0] * BUCKETS
    for latency in latencies:
        counts[bucket_of(latency)] += 1
    return counts


def merged(histograms: Iterable[Sequence[int]]) -> list[int]:
    counts = [0] * BUCKETS
    for histogram in histograms:
        for i, count in enumerate(histogram[:BUCKETS]):
            counts[i] += count
    return counts


def percentile(histogram: Sequence[int], q: float) -> int | None:
    """The q-th percentile (0 < q <= 100) in ms, or None for an empty histogram."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = math.ceil(total * q / 100)
    seen = 0
    for i, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            if i == 0:
                return 0
            return round(math.sqrt(GROWTH ** (i - 1) * GROWTH**i))
    return None  # unreachable: seen reaches total
