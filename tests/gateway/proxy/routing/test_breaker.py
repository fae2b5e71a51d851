"""The breaker's state machine: closed, open, half-open; checked against a model with hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.routing.breaker import Breaker, should_open
from gateway.proxy.routing.config import BreakerPolicy, RoutingConfig
from gateway.proxy.routing.health import DeploymentHealth

POLICY = BreakerPolicy(failure_ratio=0.5, min_requests=10, window_s=30, cooldown_s=30, probes=1)
ALPHA = RoutingConfig().ttfb_alpha


def test_it_stays_closed_below_the_minimum_number_of_requests() -> None:
    health = DeploymentHealth("org", "d")
    for _ in range(9):
        health.record_failure(1_000, POLICY, probing=False)
    assert health.phase(1_000, POLICY) == "closed"


def test_it_opens_when_half_of_ten_requests_failed() -> None:
    health = DeploymentHealth("org", "d")
    for _ in range(5):
        health.record_success(100, False, ALPHA)
    for _ in range(4):
        health.record_failure(1_000, POLICY, probing=False)
    assert health.phase(1_000, POLICY) == "closed"
    health.record_failure(2_000, POLICY, probing=False)
    assert health.phase(2_000, POLICY) == "open"
    assert health.pending_event == "open"


def test_it_is_half_open_after_the_cooldown_and_a_probe_decides() -> None:
    breaker = Breaker(open=True, opened_ms=0)
    assert breaker.phase(29_999, POLICY) == "open"
    assert breaker.phase(30_000, POLICY) == "half_open"
    assert breaker.on_failure(1, 1, 30_000, POLICY, probing=True) == "reopen"
    assert breaker.phase(59_999, POLICY) == "open"
    assert breaker.phase(60_000, POLICY) == "half_open"
    assert breaker.on_success(probing=True) == "close"
    assert breaker.phase(60_000, POLICY) == "closed"


def test_a_closing_probe_starts_a_fresh_window() -> None:
    health = DeploymentHealth("org", "d", shared_requests=20, shared_failures=15)
    health.breaker = Breaker(open=True, opened_ms=0)
    health.record_success(50, True, ALPHA)
    assert (health.requests, health.failures, health.pending_event) == (1, 0, "close")


def test_a_transition_made_during_a_sync_survives_the_merge() -> None:
    health = DeploymentHealth("org", "d")
    health.take_deltas()
    for _ in range(10):
        health.record_failure(5_000, POLICY, probing=False)
    health.merge(0, 0, 0, 0, is_open=False, opened_ms=0, retry_until_ms=0)
    assert health.breaker.open and health.breaker.opened_ms == 5_000


outcomes = st.lists(
    st.tuples(st.booleans(), st.integers(min_value=0, max_value=100_000)), max_size=60
)


@given(outcomes)
def test_the_breaker_follows_its_model(steps: list[tuple[bool, int]]) -> None:
    """Feed successes and failures (probes when half-open) and compare with a plain model."""
    health = DeploymentHealth("org", "d")
    now = 0
    requests = failures = 0
    is_open, opened = False, 0
    for ok, advance in steps:
        now += advance
        phase = health.phase(now, POLICY)
        expected = "closed" if not is_open else "half_open" if now >= opened + 30_000 else "open"
        assert phase == expected
        if phase == "open":
            continue  # skipped: no traffic reaches it
        probing = phase == "half_open"
        requests += 1
        if ok:
            health.record_success(10, probing, ALPHA)
            if probing:
                is_open, requests, failures = False, 1, 0
        else:
            failures += 1
            health.record_failure(now, POLICY, probing)
            if probing or should_open(requests, failures, POLICY):
                is_open, opened = True, now
        assert health.breaker.open == is_open
