"""Usage events travel from the proxy's Redis stream into the request log, once each."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import redis
from rest_framework.test import APIClient

from gateway.shared.usage_event import STREAM
from observability.dead_letters import DEAD_LETTERS
from observability.drain import GROUP, drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona, logged_in
from tests.factories.usage import entries_of, push_usage, usage_event_of


def test_the_drain_writes_each_event_once(alice: Persona, redis_client: redis.Redis) -> None:
    events = [usage_event_of(alice) for _ in range(3)]
    for event in events:
        push_usage(redis_client, event)
    assert drain_usage_stream(redis_client) == 3
    assert drain_usage_stream(redis_client) == 0
    row = RequestLog.objects.get(request_id=events[0]["request_id"])
    assert row.org == alice.org
    assert (row.input_tokens, row.output_tokens, row.cached_input_tokens) == (12, 34, 2)
    assert str(row.cost_usd) == "0.000123"
    assert redis_client.xlen(STREAM) == 0  # acknowledged and deleted


def test_a_redelivered_event_is_not_written_twice(
    alice: Persona, redis_client: redis.Redis
) -> None:
    event = usage_event_of(alice)
    push_usage(redis_client, event)
    push_usage(redis_client, event)  # a proxy retried its XADD
    drain_usage_stream(redis_client)
    assert RequestLog.objects.filter(request_id=event["request_id"]).count() == 1


def test_events_a_dead_worker_took_are_claimed_again(
    alice: Persona, redis_client: redis.Redis
) -> None:
    redis_client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    event = usage_event_of(alice)
    push_usage(redis_client, event)
    # A worker reads the entry and dies before acknowledging it.
    taken = redis_client.xreadgroup(GROUP, "dead-worker", {STREAM: ">"}, count=10)
    assert taken
    assert drain_usage_stream(redis_client, claim_idle_ms=0) == 1
    assert RequestLog.objects.filter(request_id=event["request_id"]).exists()


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"an event"', b'{"ts": 1e400}'])
def test_a_malformed_event_is_set_aside_without_blocking_the_rest(
    alice: Persona, redis_client: redis.Redis, body: bytes
) -> None:
    redis_client.xadd(STREAM, {"e": body})
    good = usage_event_of(alice)
    push_usage(redis_client, good)
    assert drain_usage_stream(redis_client) == 1
    assert redis_client.xlen(STREAM) == 0
    [(_id, kept)] = entries_of(redis_client, DEAD_LETTERS)
    assert (kept[b"e"], kept[b"reason"]) == (body, b"malformed")


def test_rejected_requests_without_an_org_are_kept_but_shown_to_nobody(
    alice: Persona, redis_client: redis.Redis, alice_api: APIClient
) -> None:
    push_usage(redis_client, usage_event_of(None, status=401, error_type="authentication_error"))
    drain_usage_stream(redis_client)
    assert RequestLog.objects.filter(org=None, status=401).count() == 1
    assert alice_api.get("/api/v1/requests/").json()["data"] == []


# A minute of two hours ago: within the retention (older events are not logged).
BASE_TS = (int(time.time()) // 60 - 120) * 60


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def logged_requests(alice: Persona, charlie: Persona, redis_client: redis.Redis) -> list[str]:
    ids = []
    for index in range(5):
        event = usage_event_of(alice, model_requested="gpt-demo" if index % 2 else "claude-demo")
        event["ts"] = BASE_TS + index * 60
        ids.append(event["request_id"])
        push_usage(redis_client, event)
    push_usage(redis_client, usage_event_of(charlie))
    drain_usage_stream(redis_client)
    return ids


def test_the_api_lists_the_orgs_requests_newest_first_with_a_cursor(
    logged_requests: list[str], alice_api: APIClient
) -> None:
    first = alice_api.get("/api/v1/requests/?limit=2").json()
    assert [r["request_id"] for r in first["data"]] == logged_requests[::-1][:2]
    assert first["data"][0]["cost_usd"] == "0.000123"
    assert first["data"][0]["fallbacks"] == []
    second = alice_api.get(f"/api/v1/requests/?limit=2&cursor={first['next_cursor']}").json()
    assert [r["request_id"] for r in second["data"]] == logged_requests[::-1][2:4]
    body = str(first)
    assert "messages" not in body and "content" not in body


def test_the_api_filters_by_model_and_time(
    logged_requests: list[str], alice_api: APIClient
) -> None:
    by_model = alice_api.get("/api/v1/requests/?model=gpt-demo").json()["data"]
    assert len(by_model) == 2
    since, until = _iso(BASE_TS + 40), _iso(BASE_TS + 160)  # the 2nd and 3rd requests
    window = alice_api.get(f"/api/v1/requests/?from={since}&to={until}").json()["data"]
    assert len(window) == 2


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=x", "status=99", "from=yesterday", "cursor=-1"]
)
def test_bad_query_parameters_are_400(alice: Persona, alice_api: APIClient, query: str) -> None:
    response = alice_api.get(f"/api/v1/requests/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_charlie_sees_none_of_acmes_requests(
    logged_requests: list[str], charlie_api: APIClient, charlie: Persona
) -> None:
    seen = {r["request_id"] for r in charlie_api.get("/api/v1/requests/").json()["data"]}
    assert seen.isdisjoint(logged_requests)
    page = logged_in(charlie).get("/o/acme/requests/")
    assert page.status_code == 404


def test_the_dashboard_shows_the_request_log(logged_requests: list[str], alice: Persona) -> None:
    page = logged_in(alice).get("/o/acme/requests/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "gpt-4o-mini" in html
    assert "claude-demo" in html
