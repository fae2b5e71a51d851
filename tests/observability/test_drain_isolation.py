"""One tenant's bad usage event is set aside; every other org's log rows and ledger entries land.

The events are written on the stream as a proxy (an older one, or one fed
by a tenant's own upstream) could have written them, and drained into the
real PostgreSQL, whose refusals are the ones production would meet.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import redis
from prometheus_client import generate_latest

from gateway.budgets.models import LedgerEntry
from gateway.proxy.metrics import SCRAPE
from gateway.shared.usage_event import STREAM, UsageEvent
from observability.dead_letters import DEAD_LETTERS
from observability.drain import drain_usage_stream
from observability.models import RequestLog
from observability.tasks import drain_usage
from tenants import actions
from tenants.audit import Actor
from tests.conftest import PASSWORD, Persona
from tests.factories.usage import entries_of, push_usage, usage_event_of

SECRET = "tenant-secret-4242"


@pytest.fixture
def dana(db: None) -> Persona:
    """The admin of a third org, Initech."""
    user, org = actions.sign_up("dana@initech.test", PASSWORD, "Initech", ip="127.0.0.1")
    project = actions.create_project(org, "Default", Actor(user=user, label=user.email))
    return Persona(user=user, org=org, project=project)


def _charged(persona: Persona, **changes: Any) -> UsageEvent:
    """A budgeted request's event: a log row and a ledger entry."""
    charge: dict[str, Any] = {"charged_nano": 1_500, "windows": [f"{uuid.uuid4()}:d20261207"]}
    return usage_event_of(persona, **(charge | changes))


def _dead_letters(client: redis.Redis) -> dict[bytes, bytes]:
    """Entry id on the usage stream -> reason, for every event set aside."""
    return {fields[b"entry"]: fields[b"reason"] for _id, fields in entries_of(client, DEAD_LETTERS)}


def _counted_refusals() -> float:
    series = 'selixes_usage_dead_letters_total{reason="refused"} '
    lines = [
        line for line in generate_latest(SCRAPE).decode().splitlines() if line.startswith(series)
    ]
    return float(lines[0].removeprefix(series)) if lines else 0.0


def _written(event: UsageEvent) -> tuple[bool, bool]:
    request_id = event["request_id"]
    return (
        RequestLog.objects.filter(request_id=request_id).exists(),
        LedgerEntry.objects.filter(request_id=request_id).exists(),
    )


def test_a_poisoned_event_is_set_aside_and_the_other_orgs_rows_and_ledger_entries_are_written(
    alice: Persona, charlie: Persona, dana: Persona, redis_client: redis.Redis
) -> None:
    before = _counted_refusals()
    # A count no column can hold, as a tenant's own upstream may report it.
    poisoned = _charged(alice, input_tokens=2**31)
    # A NUL from a proxy that did not refuse it yet: written without the NUL.
    nul = _charged(alice, model_requested="poison\u0000")
    good = [_charged(charlie), _charged(dana), _charged(charlie)]
    for event in [good[0], poisoned, good[1], nul, good[2]]:
        push_usage(redis_client, event)
    poisoned_entry = entries_of(redis_client, STREAM)[1][0]

    assert drain_usage_stream(redis_client) == 4

    assert [_written(event) for event in good] == [(True, True)] * 3
    assert _written(nul) == (True, True)
    assert RequestLog.objects.get(request_id=nul["request_id"]).model_requested == "poison"
    assert _written(poisoned) == (False, False)
    assert _dead_letters(redis_client) == {poisoned_entry: b"DataError"}
    assert _counted_refusals() == before + 1
    assert redis_client.xlen(STREAM) == 0  # acknowledged: nothing comes back to block
    later = _charged(charlie)
    push_usage(redis_client, later)
    assert drain_usage_stream(redis_client, claim_idle_ms=0) == 1
    assert _written(later) == (True, True)


def test_a_log_row_is_not_written_when_its_ledger_entry_is_refused(
    alice: Persona, charlie: Persona, redis_client: redis.Redis
) -> None:
    # A settlement beyond PostgreSQL's bigint: the ledger refuses it, the log would not.
    unbooked = _charged(alice, charged_nano=2**63)
    good = _charged(charlie)
    push_usage(redis_client, unbooked)
    push_usage(redis_client, good)

    assert drain_usage_stream(redis_client) == 1

    assert _written(unbooked) == (False, False)
    assert _written(good) == (True, True)
    assert list(_dead_letters(redis_client).values()) == [b"DataError"]


def test_an_event_of_a_deleted_org_is_set_aside(alice: Persona, redis_client: redis.Redis) -> None:
    # The org was deleted (GDPR) while its events still waited on the stream.
    orphan = usage_event_of(alice, org_id=str(uuid.uuid4()))
    good = usage_event_of(alice)
    push_usage(redis_client, orphan)
    push_usage(redis_client, good)

    assert drain_usage_stream(redis_client) == 1

    assert _written(orphan) == (False, False)
    assert _written(good) == (True, False)
    assert list(_dead_letters(redis_client).values()) == [b"IntegrityError"]


def test_the_drain_never_logs_a_value_of_an_event_the_database_refused(
    alice: Persona, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # PostgreSQL quotes a refused row (or the JSON around a NUL) in its message.
    event = usage_event_of(alice, model_requested=SECRET, input_tokens=-1)
    event["attempts"][0]["model"] = f"{SECRET}\u0000"
    push_usage(redis_client, event)

    result = drain_usage.apply()  # as Celery runs it, with its own failure logging

    assert result.successful()
    assert list(_dead_letters(redis_client).values()) == [b"IntegrityError"]
    assert caplog.records  # the setting aside was logged ...
    assert SECRET not in caplog.text  # ... without the value
