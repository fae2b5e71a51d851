"""GET /api/v1/traces/{request_id}/: the decrypted trace, 404s that say why, every read audited."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from observability.models import DataKey, Trace
from tenants.models import AuditEvent, Membership, Organization, Role, User
from tests.conftest import PASSWORD, Persona, logged_in
from tests.factories.kept_traces import CHAT_REQUEST, CHAT_RESPONSE, a_payload, kept_trace
from tests.gateway.pii_policy.conftest import error_of

pytestmark = pytest.mark.django_db(transaction=True)


def url(request_id: str) -> str:
    return f"/api/v1/traces/{request_id}/"


def views_of(org: Organization) -> list[tuple[str, str, str]]:
    events = AuditEvent.objects.filter(org=org, action="trace.viewed").order_by("id")
    return list(events.values_list("actor_label", "target_type", "target_label"))


def test_it_answers_the_trace_as_sealed_and_audits_the_read(
    alice: Persona, alice_api: APIClient
) -> None:
    # Now: the trace table is partitioned by day, and today's partition always exists.
    moment = datetime.now(UTC).replace(microsecond=0)
    trace = kept_trace(alice.org, created_at=moment)
    response = alice_api.get(url(trace.request_id))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "request_id": trace.request_id,
        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": CHAT_REQUEST,
        "response": CHAT_RESPONSE,
        "truncated": False,
    }
    [(actor, target_type, label)] = views_of(alice.org)
    assert actor.startswith("token ")
    assert (target_type, label) == ("trace", f"trace of request {trace.request_id}")
    # The audit says who read which trace, never what it holds.
    stored = str(list(AuditEvent.objects.values()))
    assert "hello" not in stored and "Hello" not in stored


def test_a_truncated_trace_says_so_and_an_assembled_stream_reads_back_whole(
    alice: Persona, alice_api: APIClient
) -> None:
    streamed = {"id": "chatcmpl-2", "choices": [{"delta": {"content": "x" * 1000}}]}
    trace = kept_trace(alice.org, a_payload(response=streamed, truncated=True))
    body = alice_api.get(url(trace.request_id)).json()
    assert body["truncated"] is True
    assert body["response"] == streamed


@pytest.mark.parametrize(
    "request_id",
    ["0123456789abcdef0123456789abcdef", "x" * 300, "not a request id", "%00"],
    ids=["unknown", "too-long", "spaces", "nul"],
)
def test_a_request_without_a_trace_answers_404_trace_not_found(
    alice: Persona, alice_api: APIClient, request_id: str
) -> None:
    kept_trace(alice.org)
    response = alice_api.get(url(request_id))
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["type"]) == ("trace_not_found", "not_found_error")
    assert "observability was off" in error["message"]
    assert views_of(alice.org) == []


def test_another_orgs_trace_reads_as_no_trace_at_all(
    alice: Persona, charlie_api: APIClient
) -> None:
    trace = kept_trace(alice.org)
    response = charlie_api.get(url(trace.request_id))
    assert response.status_code == 404
    assert error_of(response)["code"] == "trace_not_found"


def test_a_shredded_day_reads_as_no_trace(alice: Persona, alice_api: APIClient) -> None:
    trace = kept_trace(alice.org)
    DataKey.objects.filter(org=alice.org, day=trace.day).delete()
    response = alice_api.get(url(trace.request_id))
    assert response.status_code == 404
    assert error_of(response)["code"] == "trace_not_found"


def test_a_trace_whose_master_key_is_gone_is_unavailable_not_a_500(
    alice: Persona, alice_api: APIClient, settings: Any
) -> None:
    trace = kept_trace(alice.org)
    settings.SELIXES_MASTER_KEYS = f"other:{base64.b64encode(os.urandom(32)).decode()}"
    response = alice_api.get(url(trace.request_id))
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "trace_unavailable"
    assert "master key" in error["message"]
    assert views_of(alice.org) == []


def test_a_tampered_or_moved_ciphertext_is_unavailable(
    alice: Persona, alice_api: APIClient
) -> None:
    tampered = kept_trace(alice.org)
    raw = bytearray(bytes(tampered.sealed))
    raw[-1] ^= 1
    Trace.objects.filter(id=tampered.id).update(sealed=bytes(raw))
    # A real ciphertext copied onto another request of the same org and day.
    original = kept_trace(alice.org)
    moved = Trace.objects.create(
        request_id="f" * 32,
        org=alice.org,
        created_at=original.created_at,
        day=original.day,
        sealed=bytes(original.sealed),
    )
    for request_id in (tampered.request_id, moved.request_id):
        response = alice_api.get(url(request_id))
        assert response.status_code == 404
        assert error_of(response)["code"] == "trace_unavailable"
    assert alice_api.get(url(original.request_id)).status_code == 200


def test_whoever_reads_the_request_log_reads_traces_and_billing_does_not(
    alice: Persona, bob: Persona
) -> None:
    trace = kept_trace(alice.org)
    member = logged_in(bob).get(url(trace.request_id))
    assert member.status_code == 200
    assert member.json()["request"] == CHAT_REQUEST
    assert views_of(alice.org) == [
        ("bob@acme.test", "trace", f"trace of request {trace.request_id}")
    ]

    bill = User.objects.create_user(email="bill@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=bill, role=Role.BILLING)
    refused = logged_in(Persona(bill, alice.org, alice.project)).get(url(trace.request_id))
    assert refused.status_code == 403
    assert error_of(refused)["type"] == "permission_error"
