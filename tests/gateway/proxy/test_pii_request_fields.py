# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload"
"""The PII policy scans what reaches the model or the provider's logs beyond the messages.

`metadata` values (OpenAI keeps them with stored completions and shows them
in its dashboard), tool definitions and response schemas (rendered into the
prompt): an email written there is masked before the provider sees it, while
the schema's structure (property names, types, required lists) is kept.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.pii import EMAIL, PHONE, VALIDATORS, seen_by_provider, set_policy
from tests.gateway.proxy.conftest import Gateway

pytestmark = pytest.mark.django_db(transaction=True)


def _schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"A ticket for {EMAIL}.",
        "properties": {
            "name": {"type": "string", "description": f"Call {PHONE} first."},
            "owner": {"type": "string", "enum": [EMAIL, "nobody"], "default": EMAIL},
        },
        "required": ["name", "owner"],
    }


def test_it_masks_emails_in_openai_metadata_tools_and_response_schemas(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    completion = gateway.openai().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Open a ticket."}],
        metadata={"customer": EMAIL, "plan": "pro"},
        safety_identifier=EMAIL,
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "open_ticket",
                    "description": f"Escalations go to {EMAIL}.",
                    "parameters": _schema(),
                },
            }
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "ticket", "schema": _schema(), "strict": True},
        },
    )
    assert completion.choices
    seen = seen_by_provider(gateway)
    assert EMAIL not in seen
    assert "415-555-0132" not in seen
    body = gateway.recorded()["last"]["body"]
    assert body["metadata"] == {"customer": "[EMAIL]", "plan": "pro"}
    assert body["safety_identifier"] == "[EMAIL]"
    function = body["tools"][0]["function"]
    assert function["name"] == "open_ticket"
    assert function["description"] == "Escalations go to [EMAIL]."
    for schema in (function["parameters"], body["response_format"]["json_schema"]["schema"]):
        assert schema["description"] == "A ticket for [EMAIL]."
        assert schema["properties"]["name"] == {
            "type": "string",
            "description": "Call [PHONE] first.",
        }
        assert schema["properties"]["owner"]["enum"] == ["[EMAIL]", "nobody"]
        assert schema["properties"]["owner"]["default"] == "[EMAIL]"
        assert schema["required"] == ["name", "owner"]
    assert body["response_format"]["json_schema"]["name"] == "ticket"


def test_it_masks_emails_in_anthropic_tool_schemas_and_metadata(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    gateway.route("claude", gateway.anthropic_deployment())
    message = gateway.anthropic_client().messages.create(
        model="claude",
        max_tokens=100,
        messages=[{"role": "user", "content": "Open a ticket."}],
        metadata={"user_id": EMAIL},
        tools=[
            {
                "name": "open_ticket",
                "description": f"Escalations go to {EMAIL}.",
                "input_schema": _schema(),
            }
        ],
    )
    assert message.content
    seen = seen_by_provider(gateway)
    assert EMAIL not in seen
    body = gateway.recorded()["last"]["body"]
    assert body["metadata"] == {"user_id": "[EMAIL]"}
    tool = body["tools"][0]
    assert tool["name"] == "open_ticket"
    assert tool["description"] == "Escalations go to [EMAIL]."
    assert tool["input_schema"]["properties"]["owner"]["enum"] == ["[EMAIL]", "nobody"]
    assert tool["input_schema"]["required"] == ["name", "owner"]
