"""Redaction counts travel from the usage event into the request log, its API and its page."""

from __future__ import annotations

from typing import Any

import redis
from rest_framework.test import APIClient

from gateway.shared.usage_event import UsageEvent
from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona, logged_in
from tests.dashboard.support import text
from tests.factories.usage import push_usage, usage_event_of

EMAILS = {"entity": "EMAIL", "action": "mask", "count": 2, "detector": "email_pattern"}
PERSON = {"entity": "PERSON", "action": "pseudonymize", "count": 1, "detector": "ner"}


def _drained(client: redis.Redis, event: UsageEvent) -> RequestLog:
    push_usage(client, event)
    assert drain_usage_stream(client) == 1
    return RequestLog.objects.get(request_id=event["request_id"])


def test_the_drain_copies_the_redactions(alice: Persona, redis_client: redis.Redis) -> None:
    redactions = [
        {**EMAILS, "where": "prompt"},
        {**PERSON, "where": "prompt"},
        {**EMAILS, "count": 1, "where": "answer"},
    ]
    row = _drained(redis_client, usage_event_of(alice, redactions=redactions))
    assert row.redactions == redactions
    assert row.redaction_counts == [("EMAIL", 3), ("PERSON", 1)]


def test_an_event_without_redactions_logs_none(alice: Persona, redis_client: redis.Redis) -> None:
    assert _drained(redis_client, usage_event_of(alice)).redactions == []
    assert _drained(redis_client, usage_event_of(alice, redactions=None)).redactions == []
    assert _drained(redis_client, usage_event_of(alice, redactions="EMAIL")).redactions == []


def test_malformed_items_are_dropped_and_the_rest_kept(
    alice: Persona, redis_client: redis.Redis
) -> None:
    good = {**EMAILS, "where": "prompt"}
    bad: list[Any] = [
        "EMAIL",
        ["EMAIL", 2],
        {**good, "where": "headers"},
        {**good, "action": "shred"},
        {**good, "count": 0},
        {**good, "count": -1},
        {**good, "count": "2"},
        {**good, "count": True},
        {**good, "count": 2.5},
        {**good, "entity": "alice@example.com"},  # a value, never a type
        {**good, "entity": ""},
        {**good, "entity": "E" * 65},
        {**good, "detector": "found alice@example.com"},
        {**good, "detector": None},
        {key: value for key, value in good.items() if key != "count"},
    ]
    row = _drained(redis_client, usage_event_of(alice, redactions=[*bad, good]))
    assert row.redactions == [good]
    assert "alice@example.com" not in str(row.redactions)


def test_extra_fields_of_an_item_are_not_kept(alice: Persona, redis_client: redis.Redis) -> None:
    item = {**EMAILS, "where": "answer", "value": "alice@example.com", "spans": [[0, 17]]}
    row = _drained(redis_client, usage_event_of(alice, redactions=[item]))
    assert row.redactions == [{**EMAILS, "where": "answer"}]


def test_the_list_is_capped_at_64_items(alice: Persona, redis_client: redis.Redis) -> None:
    many = [{**EMAILS, "count": i + 1, "where": "prompt"} for i in range(100)]
    row = _drained(redis_client, usage_event_of(alice, redactions=[{"entity": 1}, *many]))
    assert len(row.redactions) == 64
    assert row.redactions == many[:64]


def test_the_api_and_the_page_show_the_redactions(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    redactions = [{**EMAILS, "where": "prompt"}, {**PERSON, "where": "answer"}]
    _drained(redis_client, usage_event_of(alice, redactions=redactions))
    _drained(redis_client, usage_event_of(alice, model_requested="no-pii"))
    data = alice_api.get("/api/v1/requests/").json()["data"]
    assert [row["redactions"] for row in data] == [[], redactions]

    page = text(logged_in(alice).get("/o/acme/requests/"))
    assert "EMAIL \N{MULTIPLICATION SIGN}2" in page
    assert "PERSON \N{MULTIPLICATION SIGN}1" in page
