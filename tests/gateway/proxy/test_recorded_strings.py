"""Strings a tenant chose never break the request log, nor an answer already paid for.

Through a real proxy process: a control character in what the proxy records
is a 400 before any provider is called, the request is still logged (and
the log keeps flowing), and a model name saved before the rules got stricter
still answers, its x-selixes-model header escaped.
"""

from __future__ import annotations

import httpx
import pytest
from django.db.models import F

from gateway.models import Deployment
from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tenants.models import Organization
from tenants.snapshots import publish_snapshot
from tests.conftest import Persona
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _logged(request_id: str, timeout_s: float = 10) -> RequestLog:
    """The request's log row, once the proxy's usage event has been drained."""

    def drained() -> RequestLog | None:
        drain_usage_stream()
        return RequestLog.objects.filter(request_id=request_id).first()

    return eventually(drained, timeout_s, f"request {request_id} reaching the log")


@pytest.mark.parametrize(
    "model", ["chat\u0000", "chat\n", "chat\u001f", "chat\u007f", "chat\u0085"]
)
def test_it_refuses_a_model_name_with_a_control_character(gateway: Gateway, model: str) -> None:
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=10,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "model")
    assert gateway.recorded()["total"] == 0  # no provider was called
    row = _logged(response.headers["x-request-id"])
    assert (row.status, row.error_type, row.model_requested) == (400, "invalid_request_error", "")


def test_it_refuses_a_path_with_a_control_character_and_logs_it_escaped(
    gateway: Gateway,
) -> None:
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions%00",
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    row = _logged(response.headers["x-request-id"])
    assert (row.status, row.endpoint) == (400, "/v1/chat/completions%00")


@pytest.mark.parametrize(
    ("saved", "header"), [("gpt-mock\u007f", "gpt-mock%7F"), ("gpt-möck", "gpt-m%C3%B6ck")]
)
def test_a_model_name_saved_before_the_ascii_rule_still_answers_with_an_escaped_header(
    gateway: Gateway, alice: Persona, saved: str, header: str
) -> None:
    # A row from before the API refused such names (gateway/specs.py).
    Deployment.objects.filter(route__model="chat").update(model=saved)
    Organization.objects.filter(id=alice.org.id).update(snapshot_version=F("snapshot_version") + 1)
    publish_snapshot(str(alice.org.id))

    def served_from_the_new_snapshot() -> httpx.Response | None:
        response = httpx.post(
            f"{gateway.proxy_url}/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {gateway.key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response if response.headers["x-selixes-model"] != "gpt-mock" else None

    response = eventually(served_from_the_new_snapshot, 15, "the proxy reading the new snapshot")
    assert response.headers["x-selixes-model"] == header
    assert response.json()["choices"][0]["message"]["content"]
