"""The error tree's shared headers: retry-after in whole seconds, never early."""

from __future__ import annotations

import pytest

from gateway.proxy.errors import (
    AllUpstreamsFailed,
    DeploymentsRateLimited,
    RateLimited,
    ServiceUnavailable,
)


@pytest.mark.parametrize(("seconds", "header"), [(0.2, b"1"), (1.0, b"1"), (1.5, b"2")])
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: bytes) -> None:
    for error in (
        DeploymentsRateLimited("all 429", seconds),
        AllUpstreamsFailed("x", 503, seconds),
    ):
        assert error.headers() == [(b"retry-after", header)]
    assert RateLimited("slow down", 30).headers() == [(b"retry-after", b"30")]


def test_an_error_without_a_wait_has_no_retry_after() -> None:
    assert ServiceUnavailable("down").headers() == []
    assert AllUpstreamsFailed("chain", 502, None).headers() == []
    # A request over the limit on its own: waiting never helps.
    assert RateLimited("too big", None).headers() == [(b"x-should-retry", b"false")]
