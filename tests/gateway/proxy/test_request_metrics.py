"""The proxy's request metrics, read the way Prometheus reads them: one scrape of its metrics port.

Real traffic through a real proxy to the mock provider; every check compares
a series before and after, as the proxy is shared by this module's tests.
Labels stay bounded: never an org id, key, alias or model a tenant named.
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.proxy.usage_backlog import DRAIN_GROUP
from observability import drain
from tests.conftest import Persona
from tests.factories.budgets import add_budget
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)
CHAT = {"provider": "openai_compatible", "operation": "chat", "model": "other"}


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def _chat(gateway: Gateway, alias: str = "chat", stream: bool = False) -> httpx.Response:
    return httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": alias, "stream": stream, "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=30,
    )


def test_an_answered_request_is_counted_timed_and_priced(gateway: Gateway) -> None:
    before = gateway.metrics()

    assert _chat(gateway).status_code == 200
    assert _chat(gateway, stream=True).status_code == 200

    after = gateway.metrics()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("selixes_proxy_requests_total", status="200", **CHAT) == 2
    gen_ai = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai_compatible",
        "gen_ai_response_model": "other",
    }
    assert delta("gen_ai_server_request_duration_seconds_count", error_type="", **gen_ai) == 2
    assert delta("gen_ai_server_time_to_first_token_seconds_count", **gen_ai) == 1  # the stream
    assert delta("gen_ai_client_token_usage_count", gen_ai_token_type="input", **gen_ai) == 2
    assert delta("gen_ai_client_token_usage_sum", gen_ai_token_type="output", **gen_ai) > 0
    assert delta("selixes_cost_usd_total", provider="openai_compatible", model="other") > 0
    # The usage flush (and settlements) go to Redis in one timed pipeline.
    assert delta("selixes_redis_command_duration_seconds_count", command="pipeline") >= 1


def test_a_model_the_pricing_table_knows_is_its_own_label(gateway: Gateway) -> None:
    created = gateway.api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai", "api_key": "sk-mock-openai-1"},
        format="json",
    )
    assert created.status_code == 201, created.content
    gateway.route(
        "chat-known",
        {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "api_base": f"{gateway.mock_url}/v1",
            "provider_key_id": created.json()["id"],
        },
    )
    before = gateway.metrics()

    answered = _chat(gateway, "chat-known")

    assert answered.status_code == 200, answered.text
    labels = {"status": "200", "provider": "openai", "model": "gpt-4o-mini"}
    assert value(gateway.metrics(), "selixes_proxy_requests_total", **labels) == (
        value(before, "selixes_proxy_requests_total", **labels) + 1
    )


def test_failed_attempts_are_counted_by_provider_and_outcome(gateway: Gateway) -> None:
    gateway.route(
        "chat-flaky",
        gateway.openai_compatible("first-mock-error-500"),
        gateway.openai_compatible("second-mock-chunks-3"),
    )
    series = {"provider": "openai_compatible", "outcome": "http_500"}
    before = value(gateway.metrics(), "selixes_upstream_errors_total", **series)

    assert _chat(gateway, "chat-flaky").status_code == 200

    assert value(gateway.metrics(), "selixes_upstream_errors_total", **series) == before + 1


def test_a_budget_refusal_is_counted(gateway: Gateway, alice: Persona) -> None:
    before = value(gateway.metrics(), "selixes_refusals_total", reason="budget_exceeded")
    add_budget(gateway, alice, "0.000001")
    # The proxy follows the new budget within a second (its snapshot).
    eventually(lambda: _chat(gateway).status_code == 402, 15, "the budget refusing")

    refused = value(gateway.metrics(), "selixes_refusals_total", reason="budget_exceeded")
    assert refused >= before + 1


def test_the_usage_streams_backlog_and_the_breakers_are_read_at_scrape_time(
    gateway: Gateway,
) -> None:
    assert _chat(gateway).status_code == 200

    def backlog_shown() -> str | None:
        text = gateway.metrics()
        return text if value(text, "selixes_usage_stream_length") >= 1 else None

    # No drain runs here: the event stays on the stream until a worker takes it.
    text = eventually(backlog_shown, 15, "the usage event on the stream")
    assert "selixes_usage_stream_pending" in text
    assert value(text, "selixes_breakers", state="closed") >= 1
    assert DRAIN_GROUP == drain.GROUP  # the proxy counts the drain's own group


def test_no_label_names_a_tenant_a_key_or_an_alias(gateway: Gateway, alice: Persona) -> None:
    gateway.route("acme-secret-alias", gateway.openai_compatible("tenant-named-model-xyz"))
    assert _chat(gateway, "acme-secret-alias").status_code == 200

    text = gateway.metrics()

    for secret in (str(alice.org.id), gateway.key, "acme-secret-alias", "tenant-named-model-xyz"):
        assert secret not in text
