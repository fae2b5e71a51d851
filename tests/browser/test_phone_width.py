"""Every main dashboard page fits a 390 px phone screen, its tables full of long values."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import redis
from playwright.async_api import Page
from pytest_django.live_server_helper import LiveServer
from rest_framework.test import APIClient

from gateway.shared.usage_event import STREAM, UsageEvent
from observability.drain import drain_usage_stream
from tenants import actions
from tests.browser.conftest import PHONE, Screenshots, log_in
from tests.conftest import Persona, api_client_for

LONG = "customer-support-assistant-for-the-european-region"
MODEL = "claude-3-7-sonnet-20250219-long-context-preview"


@dataclass
class FilledOrg:
    """Alice's org with rows in every table, and the ids of the pages that show one object."""

    persona: Persona
    route_id: str
    project_id: str


def _send(api: APIClient, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send `body` as JSON with the management API client; return the answer's body."""
    response = getattr(api, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.content
    answer: dict[str, Any] = response.json()
    return answer


def _usage_event(persona: Persona, key_id: str, **changes: Any) -> UsageEvent:
    event: UsageEvent = {
        "ts": time.time(),
        "request_id": uuid.uuid4().hex,
        "org_id": str(persona.org.id),
        "project_id": str(persona.project.id),
        "team_id": None,
        "key_id": key_id,
        "user_id": str(persona.user.id),
        "endpoint": "/v1/chat/completions",
        "model_requested": LONG,
        "model_dispatched": MODEL,
        "provider": "anthropic",
        "deployment_id": "r1:1",
        "stream": True,
        "status": 200,
        "error_type": None,
        "input_tokens": 123_456,
        "output_tokens": 65_432,
        "cached_input_tokens": 0,
        "reasoning_tokens": 0,
        "latency_ms": 12_345,
        "ttfb_ms": 1_234,
        "cost_usd": "1.234567",
        "attempts": [
            {"deployment_id": "r1:0", "provider": "openai_compatible", "model": MODEL,
             "outcome": "upstream_timeout", "latency_ms": 10_000},
            {"deployment_id": "r1:1", "provider": "anthropic", "model": MODEL,
             "outcome": "ok", "latency_ms": 2_345},
        ],
        "client_disconnected": True,
        "charged_nano": 0,
        "windows": [],
        "redactions": [
            {"entity": entity, "action": "mask", "count": 12, "detector": "regex",
             "where": "prompt"}
            for entity in ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN")
        ],
        "strategy": "priority",
    }  # fmt: skip
    event.update(changes)  # type: ignore[typeddict-item]
    return event


@pytest.fixture
def filled_org(alice: Persona, bob: Persona, settings: Any) -> FilledOrg:
    """Alice's org as a busy team has it, every value as long as the pages allow."""
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the route's address is on loopback
    api = api_client_for(alice)
    team = _send(api, "post", "/api/v1/teams/", {"name": "Platform engineering and ML"})
    project = _send(api, "post", "/api/v1/projects/", {"name": LONG, "team": team["id"]})
    keys = [
        _send(api, "post", "/api/v1/keys/", {"project_id": project["id"], "name": f"{LONG}-{n}",
              "rpm_limit": 120_000, "tpm_limit": 2_000_000})
        for n in range(3)
    ]  # fmt: skip
    assert api.delete(f"/api/v1/keys/{keys[2]['id']}/").status_code == 204
    provider_key = _send(
        api,
        "post",
        "/api/v1/provider-keys/",
        {"provider": "openai_compatible", "name": LONG, "api_key": "sk-mock-1234567890"},
    )
    mock_deployment = {
        "provider": "openai_compatible",
        "model": MODEL,
        "api_base": f"http://127.0.0.1:9/{LONG}/v1",
        "provider_key_id": provider_key["id"],
        "price": {"input_per_mtok": "1.000000", "output_per_mtok": "2.000000"},
    }
    platform_deployment = {"provider": "anthropic", "model": "claude-3-7-sonnet-20250219"}
    route = _send(
        api,
        "put",
        f"/api/v1/routes/{LONG}/",
        {"strategy": "priority", "deployments": [mock_deployment, platform_deployment]},
    )
    for scope, scope_id in (("org", None), ("project", project["id"]), ("key", keys[0]["id"])):
        _send(api, "post", "/api/v1/budgets/", {"scope": scope, "scope_id": scope_id,
              "limit_usd": "123456.78", "period": "month", "on_exhausted": "block"})  # fmt: skip
    _send(
        api,
        "put",
        "/api/v1/pii-policy/",
        {
            "enabled": True,
            "entities": {"EMAIL": "mask", "PERSON": "pseudonymize", "IBAN": "block"},
            "custom_patterns": [
                {"name": "EMPLOYEE_ID_OF_THE_EU", "regex": r"EMP-[0-9]{6}", "action": "mask"}
            ],
            "restore_in_response": True,
        },
    )
    actions.invite_member(alice.org, f"{LONG}@a-long-domain.example", "member", alice.actor)
    actions.issue_management_token(alice.org, LONG, alice.actor)
    client = redis.Redis.from_url(settings.REDIS_URL)
    for status, error in ((200, None), (503, "no_provider_key")):
        event = _usage_event(alice, keys[0]["id"], status=status, error_type=error)
        client.xadd(STREAM, {"e": orjson.dumps(event)})
    assert drain_usage_stream(client) == 2
    client.close()
    return FilledOrg(alice, route_id=route["id"], project_id=project["id"])


def _pages(org: FilledOrg) -> list[str]:
    """The org's pages a person reads on their phone: each table and list, and the main forms."""
    base = f"/o/{org.persona.org.slug}"
    return [
        f"{base}/",
        f"{base}/requests/",
        f"{base}/usage/",
        f"{base}/routes/",
        f"{base}/routes/{org.route_id}/",
        f"{base}/routing-health/",
        f"{base}/budgets/",
        f"{base}/pii-policy/",
        f"{base}/keys/",
        f"{base}/projects/",
        f"{base}/projects/{org.project_id}/",
        f"{base}/teams/",
        f"{base}/members/",
        f"{base}/provider-keys/",
        f"{base}/tokens/",
        f"{base}/audit/",
        # And the forms a first day goes through.
        f"{base}/keys/new/",
        f"{base}/provider-keys/new/",
        f"{base}/routes/new/",
        f"{base}/routes/{org.route_id}/edit/",
        f"{base}/budgets/new/",
        f"{base}/members/invite/",
    ]


async def test_no_page_is_wider_than_a_phone(
    phone: Page, live_server: LiveServer, filled_org: FilledOrg, screenshots: Screenshots
) -> None:
    await log_in(phone, live_server.url, filled_org.persona)
    too_wide = {}
    for path in _pages(filled_org):
        response = await phone.goto(f"{live_server.url}{path}")
        assert response is not None and response.ok, path
        page_name = path.strip("/").split("/", 2)[2:] or ["overview"]
        await screenshots.take(phone, page_name[0].replace("/", "-"))
        width = await phone.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert not too_wide, f"wider than {PHONE['width']} px: {too_wide}"
