# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload"
"""Budgets through the management API, and requests that spend them through a real proxy."""

from __future__ import annotations

from typing import Any

from tests.conftest import Persona
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

# 1000 USD per Mtok of output, input free: one output token costs 0.001 USD,
# and a request's worst case equals its actual cost.
OUTPUT_ONLY = {"input_per_mtok": "0", "output_per_mtok": "1000"}


def add_budget(gateway: Gateway, alice: Persona, limit_usd: str, **fields: str) -> dict[str, Any]:
    """An org budget of `limit_usd` a month that blocks when exhausted, unless `fields` say else."""
    body = {
        "scope": "org",
        "scope_id": str(alice.org.id),
        "limit_usd": limit_usd,
        "period": "month",
        "on_exhausted": "block",
        **fields,
    }
    response = gateway.api.post("/api/v1/budgets/", body, format="json")
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def chat(gateway: Gateway, model: str = "chat", max_tokens: int = 10, **extra: Any) -> Any:
    """One chat completion through the proxy with the OpenAI SDK; the raw response."""
    return gateway.openai().chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "spend a little"}],
        max_tokens=max_tokens,
        **extra,
    )


def budget_shown(gateway: Gateway, budget_id: str) -> dict[str, Any]:
    """The budget as the API shows it now."""
    state: dict[str, Any] = gateway.api.get(f"/api/v1/budgets/{budget_id}/").json()
    return state


def budget_state(gateway: Gateway, budget_id: str) -> dict[str, Any]:
    """The budget as the API shows it once the proxy's settlements have landed (none reserved)."""

    def settled() -> dict[str, Any] | None:
        state = budget_shown(gateway, budget_id)
        return state if state["reserved_usd"] == "0.000000" else None

    return eventually(settled, 15, f"budget {budget_id} settling")
