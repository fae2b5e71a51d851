"""Why a request failed reaches the request log: the error's code and each attempt's outcome.

A new user's first request through a route saved on a platform key that is
not there fails with 503; the log must say so (no_provider_key), in the API
and on the dashboard, without a payload or a key.
"""

from __future__ import annotations

import httpx
import pytest

from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona, logged_in
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _logged(request_id: str) -> RequestLog:
    def drained() -> RequestLog | None:
        drain_usage_stream()
        return RequestLog.objects.filter(request_id=request_id).first()

    return eventually(drained, 10, f"request {request_id} reaching the log")


def test_a_request_that_found_no_provider_key_says_so_in_the_log(
    gateway: Gateway, alice: Persona
) -> None:
    # The API still saves it (the proxy may hold platform keys web does not know of).
    gateway.route("first", {"provider": "openai", "model": "gpt-4o-mini"})
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.key}"},
        json={"model": "first", "messages": [{"role": "user", "content": "a secret prompt"}]},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    request_id = response.headers["x-request-id"]

    row = _logged(request_id)
    assert (row.error_type, row.error_code) == ("upstream_error", "all_deployments_failed")
    assert [a["outcome"] for a in row.attempts] == ["no_provider_key"]

    [listed] = gateway.api.get("/api/v1/requests/").json()["data"]
    assert listed["error_code"] == "all_deployments_failed"
    assert listed["attempts"][0]["outcome"] == "no_provider_key"

    browser = logged_in(alice)
    listing = browser.get("/o/acme/requests/").content.decode()
    assert "all_deployments_failed" in listing
    assert "(no_provider_key)" in listing
    detail = browser.get(f"/o/acme/requests/{request_id}/").content.decode()
    assert "<code>no_provider_key</code>" in detail
    assert "No key to send" in detail
    for page in (listing, detail, str(listed)):
        assert "a secret prompt" not in page
        assert gateway.key not in page


def test_charlie_gets_404_for_acmes_request(gateway: Gateway, charlie: Persona) -> None:
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.key}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    request_id = response.headers["x-request-id"]
    _logged(request_id)
    assert logged_in(charlie).get(f"/o/acme/requests/{request_id}/").status_code == 404
    assert logged_in(charlie).get(f"/o/globex/requests/{request_id}/").status_code == 404
