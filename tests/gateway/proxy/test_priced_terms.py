# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload"
"""Fields that raise the provider's bill are priced or refused, never sent at the standard rate.

Through the real proxy to the mock provider: OpenAI's priority tier is
reserved and settled at its priority rates (gpt-4o from the shipped price
list), Anthropic's 1-hour cache writes and US-only inference at their
published multipliers, and what no price covers (audio output, fast mode,
priority on a deployment without priority rates) is a 400 naming the field
before anything leaves.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Persona
from tests.factories.budgets import add_budget
from tests.gateway.proxy.conftest import PROVIDER_KEY, Gateway

pytestmark = pytest.mark.django_db(transaction=True)

# gpt-4o in prices.yaml, USD per Mtok: standard and priority (openai.com/api-priority-processing).
GPT_4O = {"input": Decimal("2.50"), "output": Decimal("10.00")}
GPT_4O_PRIORITY = {"input": Decimal("4.25"), "output": Decimal("17.00")}
# Input-only pricing makes the prompt's bound the whole worst case.
INPUT_ONLY = {"input_per_mtok": "1000", "output_per_mtok": "0"}
LONG_TEXT = "word " * 2_000  # about 10 KB: a worst case of about 10 USD at INPUT_ONLY


def _openai_gpt_4o(gateway: Gateway) -> None:
    created = gateway.api.post(
        "/api/v1/provider-keys/", {"provider": "openai", "api_key": PROVIDER_KEY}, format="json"
    )
    assert created.status_code == 201, created.content
    deployment = {
        "provider": "openai",
        "model": "gpt-4o",
        "api_base": f"{gateway.mock_url}/v1",
        "provider_key_id": created.json()["id"],
    }
    gateway.route("chat", deployment)


def _claude(gateway: Gateway) -> None:
    gateway.route("claude", {**gateway.anthropic_deployment(), "price": INPUT_ONLY})


def _chat(gateway: Gateway, **extra: Any) -> Any:
    return gateway.openai().chat.completions.with_raw_response.create(
        model="chat",
        messages=[{"role": "user", "content": "spend a little"}],
        max_tokens=1000,
        **extra,
    )


def _cost(usage: Any, rates: dict[str, Decimal]) -> str:
    exact = (usage.prompt_tokens * rates["input"] + usage.completion_tokens * rates["output"]) / (
        10**6
    )
    return str(exact.quantize(Decimal("0.000001"), rounding=ROUND_CEILING))


def _messages(gateway: Gateway, **extra: Any) -> httpx.Response:
    body = {
        "model": "claude",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": LONG_TEXT}]}],
        **extra,
    }
    headers = {"x-api-key": gateway.key, "anthropic-version": "2023-06-01"}
    return httpx.post(f"{gateway.proxy_url}/v1/messages", json=body, headers=headers, timeout=30)


def _assert_refused(response: httpx.Response, param: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "unpriced_request_field",
        param,
    )


def test_it_refuses_a_priority_request_the_budget_covers_only_at_the_standard_rate(
    gateway: Gateway, alice: Persona
) -> None:
    _openai_gpt_4o(gateway)
    # 1,000 output tokens: 0.010 USD standard, 0.017 USD priority, plus the prompt's bound.
    add_budget(gateway, alice, "0.014")
    with pytest.raises(openai.APIStatusError) as refused:
        _chat(gateway, service_tier="priority")
    assert refused.value.status_code == 402
    assert refused.value.code == "budget_exceeded"
    assert gateway.recorded()["total"] == 0
    assert _chat(gateway).status_code == 200
    assert gateway.recorded()["total"] == 1


def test_it_settles_a_priority_request_at_the_priority_price(gateway: Gateway) -> None:
    _openai_gpt_4o(gateway)
    standard = _chat(gateway)
    priority = _chat(gateway, service_tier="priority")
    assert gateway.recorded()["last"]["body"]["service_tier"] == "priority"
    assert standard.headers["x-selixes-cost-usd"] == _cost(standard.parse().usage, GPT_4O)
    assert priority.headers["x-selixes-cost-usd"] == _cost(priority.parse().usage, GPT_4O_PRIORITY)
    assert Decimal(priority.headers["x-selixes-cost-usd"]) > Decimal(
        standard.headers["x-selixes-cost-usd"]
    )


@pytest.mark.parametrize("asked", [None, "auto"])
def test_a_request_priced_at_the_standard_rate_is_sent_at_the_standard_tier(
    gateway: Gateway, asked: str | None
) -> None:
    """An OpenAI project may default to priority: 'auto' would bill above the reservation."""
    _openai_gpt_4o(gateway)
    _chat(gateway, **({"service_tier": asked} if asked else {}))
    assert gateway.recorded()["last"]["body"]["service_tier"] == "default"


def test_it_refuses_priority_on_a_deployment_without_priority_rates(gateway: Gateway) -> None:
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        json={
            "model": "chat",
            "messages": [{"role": "user", "content": "hi"}],
            "service_tier": "priority",
        },
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=30,
    )
    _assert_refused(response, "service_tier")
    assert gateway.recorded()["total"] == 0


def test_it_refuses_audio_output_with_or_without_a_budget(gateway: Gateway) -> None:
    for extra in (
        {"modalities": ["text", "audio"]},
        {"audio": {"voice": "alloy", "format": "wav"}},
    ):
        response = httpx.post(
            f"{gateway.proxy_url}/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}], **extra},
            headers={"authorization": f"Bearer {gateway.key}"},
            timeout=30,
        )
        _assert_refused(response, next(iter(extra)))
    assert gateway.recorded()["total"] == 0


def test_it_refuses_anthropic_fast_mode(gateway: Gateway) -> None:
    _claude(gateway)
    _assert_refused(_messages(gateway, speed="fast"), "speed")
    assert gateway.recorded()["total"] == 0


def test_it_reserves_one_hour_cache_writes_at_twice_the_input_rate(
    gateway: Gateway, alice: Persona
) -> None:
    _claude(gateway)
    add_budget(gateway, alice, "15")  # the prompt's bound is about 10 USD at the input rate
    long_cache = [
        {
            "type": "text",
            "text": LONG_TEXT,
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    refused = _messages(gateway, messages=[{"role": "user", "content": long_cache}])
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["type"] == "budget_exceeded"
    assert gateway.recorded()["total"] == 0
    five_minutes = [{**long_cache[0], "cache_control": {"type": "ephemeral"}}]
    admitted = _messages(gateway, messages=[{"role": "user", "content": five_minutes}])
    assert admitted.status_code == 200, admitted.text
    assert gateway.recorded()["total"] == 1


def test_it_bills_us_only_inference_at_one_point_one_times_the_rate(gateway: Gateway) -> None:
    _claude(gateway)
    standard = _messages(gateway)
    us_only = _messages(gateway, inference_geo="us")
    assert standard.status_code == us_only.status_code == 200, us_only.text
    assert standard.json()["usage"]["input_tokens"] == us_only.json()["usage"]["input_tokens"]
    assert Decimal(us_only.headers["x-selixes-cost-usd"]) == Decimal(
        standard.headers["x-selixes-cost-usd"]
    ) * Decimal("1.1")
