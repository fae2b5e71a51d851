# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr,index"
"""The PII policy end to end: official SDKs -> real proxy process -> mock provider.

The mock records the body it received (what the provider saw) and answers
`say:<base64>` with the decoded text, so an answer can carry PII the prompt
never showed in clear.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai
import orjson
import pytest

from config.redis import get_redis
from gateway.shared.snapshot import CHANNEL, snapshot_key
from tests.conftest import Persona
from tests.factories.pii import (
    CARD,
    EMAIL,
    PHONE,
    SSN,
    VALIDATORS,
    say,
    seen_by_provider,
    set_policy,
)
from tests.factories.usage import usage_event
from tests.gateway.proxy.conftest import Gateway
from tests.gateway.proxy.relay import relay_to
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_provider_never_sees_masked_entities_in_any_openai_field(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    messages = [
        {"role": "system", "content": f"The operator's phone is {PHONE}."},
        {"role": "developer", "content": [{"type": "text", "text": f"Escalate to {EMAIL}."}]},
        {"role": "user", "content": [{"type": "text", "text": f"My card is {CARD}, ok?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "arguments": orjson.dumps({"ssn": SSN, "notes": [EMAIL]}).decode(),
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": f"Found {EMAIL} and {SSN}."},
        {"role": "user", "content": "Thanks, summarise."},
    ]
    response = gateway.openai().chat.completions.with_raw_response.create(
        model="chat", messages=messages, user=EMAIL
    )
    assert response.parse().choices[0].message.content
    seen = seen_by_provider(gateway)
    for value in (EMAIL, PHONE, CARD, SSN, "415-555-0132", "4111"):
        assert value not in seen
    for mask in ("[EMAIL]", "[PHONE]", "[CREDIT_CARD]", "[US_SSN]"):
        assert mask in seen
    arguments = gateway.recorded()["last"]["body"]["messages"][3]["tool_calls"][0]["function"]
    assert orjson.loads(arguments["arguments"]) == {"ssn": "[US_SSN]", "notes": ["[EMAIL]"]}
    header = response.headers["x-selixes-redactions"]
    assert "EMAIL:mask:4" in header.split(",")
    assert "US_SSN:mask:2" in header.split(",")
    event = usage_event(response.headers["x-request-id"])
    entries = {(r["entity"], r["action"], r["where"]): r for r in event["redactions"]}
    assert entries[("EMAIL", "mask", "prompt")]["count"] == 4
    assert entries[("EMAIL", "mask", "prompt")]["detector"]
    assert EMAIL not in orjson.dumps(event).decode()


def test_obfuscated_card_numbers_are_still_caught(gateway: Gateway) -> None:
    set_policy(gateway, entities={"CREDIT_CARD": "mask"})
    zero_width = "4111\u200b1111\u200b1111\u200b1111"
    full_width = "\uff14\uff11\uff11\uff11 1111 1111 1111"
    gateway.openai().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": f"a {zero_width} b {full_width} c"}],
    )
    sent = gateway.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == "a [CREDIT_CARD] b [CREDIT_CARD] c"


def test_pseudonyms_are_stable_and_restored_in_the_answer(gateway: Gateway) -> None:
    set_policy(gateway, entities={"EMAIL": "pseudonymize"}, restore_in_response=True)
    client = gateway.openai()
    answers = []
    tokens = []
    for _ in range(2):
        completion = client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": f"write to {EMAIL}"}]
        )
        answers.append(completion.choices[0].message.content)
        tokens.append(gateway.recorded()["last"]["body"]["messages"][0]["content"])
    assert tokens[0] == tokens[1]
    assert EMAIL not in tokens[0]
    token = tokens[0].removeprefix("write to ")
    assert token.startswith("<EMAIL_") and len(token) == len("<EMAIL_3f2a9c>")
    # The mock echoes the token; the caller gets its own value back, streamed or not.
    assert answers[0] == f"Mock answer to: write to {EMAIL}"
    stream = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": f"write to {EMAIL}"}], stream=True
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == f"Mock answer to: write to {EMAIL}"


def test_without_restore_the_answer_keeps_the_pseudonym(gateway: Gateway) -> None:
    set_policy(gateway, entities={"EMAIL": "pseudonymize"})
    completion = gateway.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": f"write to {EMAIL}"}]
    )
    answer = completion.choices[0].message.content or ""
    assert EMAIL not in answer and "<EMAIL_" in answer


def test_a_blocked_type_is_refused_and_nothing_is_forwarded(gateway: Gateway) -> None:
    set_policy(gateway, entities={"US_SSN": "block", "EMAIL": "mask"})
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    with pytest.raises(openai.BadRequestError) as raised:
        gateway.openai().chat.completions.create(
            model="chat", messages=[{"role": "user", "content": f"{EMAIL} ssn {SSN}"}]
        )
    error = raised.value.body
    assert raised.value.status_code == 400
    assert error["type"] == "pii_blocked" and error["code"] == "pii_blocked"
    assert "US_SSN" in error["message"] and SSN not in error["message"]
    assert gateway.recorded()["total"] == 0
    event = usage_event(raised.value.response.headers["x-request-id"])
    blocked = [r for r in event["redactions"] if r["action"] == "block"]
    assert [(r["entity"], r["where"], r["count"]) for r in blocked] == [("US_SSN", "prompt", 1)]


def test_answers_are_redacted_the_same_streamed_or_not(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    answer = f"Reach {EMAIL} or {PHONE}; card {CARD} is on file."
    client = gateway.openai()
    messages = [{"role": "user", "content": say(answer)}]
    whole = client.chat.completions.with_raw_response.create(model="chat", messages=messages)
    text = whole.parse().choices[0].message.content
    assert text == "Reach [EMAIL] or [PHONE]; card [CREDIT_CARD] is on file."
    assert whole.headers["x-selixes-redactions"].split(",") == [
        "CREDIT_CARD:mask:1:answer",
        "EMAIL:mask:1:answer",
        "PHONE:mask:1:answer",
    ]
    with client.chat.completions.with_streaming_response.create(
        model="chat", messages=messages, stream=True, stream_options={"include_usage": True}
    ) as streamed:
        raw = b"".join(streamed.iter_bytes())
        request_id = streamed.headers["x-request-id"]
    assert EMAIL.encode() not in raw and b"4111" not in raw
    chunks = [
        orjson.loads(line[6:])
        for line in raw.split(b"\n")
        if line.startswith(b"data: {") and b'"choices"' in line
    ]
    joined = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert joined == text
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    assert raw.rstrip().split(b"\n")[-1].startswith(b": x-selixes-cost-usd=")
    answer_entries = [r for r in usage_event(request_id)["redactions"] if r["where"] == "answer"]
    assert {r["entity"] for r in answer_entries} == {"EMAIL", "PHONE", "CREDIT_CARD"}


def test_tool_call_arguments_in_answers_are_redacted(gateway: Gateway) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    tools = [
        {
            "type": "function",
            "function": {
                "name": "send",
                "parameters": {"type": "object", "properties": {"to": {"type": "string"}}},
            },
        }
    ]
    client = gateway.openai()
    messages = [{"role": "user", "content": say(f"mail {EMAIL} today")}]
    completion = client.chat.completions.create(model="chat", messages=messages, tools=tools)
    arguments = completion.choices[0].message.tool_calls[0].function.arguments
    assert orjson.loads(arguments) == {"to": "mail [EMAIL] today"}
    streamed = "".join(
        call.function.arguments or ""
        for chunk in client.chat.completions.create(
            model="chat", messages=messages, tools=tools, stream=True
        )
        if chunk.choices
        for call in chunk.choices[0].delta.tool_calls or ()
    )
    assert orjson.loads(streamed) == {"to": "mail [EMAIL] today"}


def test_a_streams_header_lists_the_prompts_redactions(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    with gateway.openai().chat.completions.with_streaming_response.create(
        model="chat",
        messages=[
            {"role": "user", "content": f"from {EMAIL}"},
            {"role": "user", "content": say(f"{EMAIL} and {EMAIL}")},
        ],
        stream=True,
    ) as streamed:
        header = streamed.headers["x-selixes-redactions"]
        body = b"".join(streamed.iter_bytes())
    assert header == "EMAIL:mask:1"  # the answer's two are in the request log
    assert EMAIL.encode() not in body
    event = usage_event(streamed.headers["x-request-id"])
    answer = [(r["entity"], r["count"]) for r in event["redactions"] if r["where"] == "answer"]
    assert answer == [("EMAIL", 2)]


def test_plain_prose_is_released_before_the_next_chunk_arrives(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    with relay_to(gateway.mock_url) as relay:
        # After the answer's first word the link to the provider goes quiet
        # until the test releases it (the mock pauses, so words come one by one).
        relay.hold_after = re.compile(rb'"content":"[^"]')
        relayed = {**gateway.openai_compatible("gpt-mock-pause-100"), "api_base": f"{relay.url}/v1"}
        gateway.route("slow", relayed)
        # A proxy holding the word back for the next chunk would time this out.
        stream = (
            gateway.openai()
            .with_options(timeout=30)
            .chat.completions.create(
                model="slow", messages=[{"role": "user", "content": "tell me a story"}], stream=True
            )
        )
        words = []
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                words.append(chunk.choices[0].delta.content)
                if len(words) == 1:
                    # The word reached the client while the next one had not left the relay.
                    assert relay.holding.is_set()
                    relay.release()
    assert len(words) >= 3


def test_anthropic_native_passthrough_is_scanned_both_ways(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    gateway.route("claude", gateway.anthropic_deployment())
    client = gateway.anthropic_client()
    message = client.messages.create(
        model="claude",
        max_tokens=100,
        system=[{"type": "text", "text": f"Support line {PHONE}."}],
        messages=[
            {"role": "user", "content": f"Card {CARD}"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "lookup",
                        "input": {"who": {"emails": [EMAIL]}, "ssn": SSN},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": f"ip 10.1.2.3 for {EMAIL}"}],
                    },
                    {"type": "text", "text": say(f"Sure, {EMAIL} is noted.")},
                ],
            },
        ],
    )
    seen = seen_by_provider(gateway)
    for value in (EMAIL, "415-555-0132", "4111 1111", SSN, "10.1.2.3"):
        assert value not in seen
    body = gateway.recorded()["last"]["body"]
    assert body["messages"][1]["content"][0]["input"] == {
        "who": {"emails": ["[EMAIL]"]},
        "ssn": "[US_SSN]",
    }
    assert message.content[0].text == "Sure, [EMAIL] is noted."
    streamed = ""
    with client.messages.stream(
        model="claude",
        max_tokens=100,
        messages=[{"role": "user", "content": say(f"Sure, {EMAIL} is noted.")}],
    ) as stream:
        for text in stream.text_stream:
            streamed += text
        final = stream.get_final_message()
    assert streamed == "Sure, [EMAIL] is noted."
    assert final.usage.output_tokens > 0


def test_anthropic_form_to_an_openai_provider_is_scanned_too(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    client = gateway.anthropic_client()
    message = client.messages.create(
        model="chat",
        max_tokens=100,
        system=f"Mail {EMAIL}",
        messages=[{"role": "user", "content": say(f"call {PHONE} now")}],
    )
    assert EMAIL not in seen_by_provider(gateway)
    assert message.content[0].text == "call [PHONE] now"
    with client.messages.stream(
        model="chat",
        max_tokens=100,
        messages=[{"role": "user", "content": say(f"call {PHONE} now")}],
    ) as stream:
        assert "".join(stream.text_stream) == "call [PHONE] now"


def test_embeddings_input_is_scanned_and_token_ids_pass(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    gateway.route("embed", gateway.openai_compatible("text-embedding-mock"))
    client = gateway.openai()
    client.embeddings.create(model="embed", input=[f"user {EMAIL}", "plain"])
    assert gateway.recorded()["last"]["body"]["input"] == ["user [EMAIL]", "plain"]
    client.embeddings.create(model="embed", input=[[1, 2, 3]])
    assert gateway.recorded()["last"]["body"]["input"] == [[1, 2, 3]]


def test_a_project_policy_replaces_the_orgs(gateway: Gateway, alice: Persona) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    set_policy(
        gateway, project_id=str(alice.project.id), entities={"EMAIL": "allow", "PHONE": "mask"}
    )
    gateway.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": f"{EMAIL} {PHONE}"}]
    )
    assert seen_by_provider(gateway).count(EMAIL) == 1
    assert "[PHONE]" in seen_by_provider(gateway)


def test_a_disabled_policy_scans_nothing(gateway: Gateway) -> None:
    set_policy(gateway, enabled=False, entities={"EMAIL": "mask"})
    response = gateway.openai().chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": EMAIL}]
    )
    assert EMAIL in seen_by_provider(gateway)
    assert "x-selixes-redactions" not in response.headers


def test_custom_patterns_and_names_are_redacted(gateway: Gateway) -> None:
    set_policy(
        gateway,
        entities={"PERSON": "mask"},
        custom_patterns=[{"name": "EMPLOYEE_ID", "regex": r"EMP-\d{6}", "action": "mask"}],
    )
    gateway.openai().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Dear Ada Lovelace, badge EMP-123456 expired."}],
    )
    sent = gateway.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == "Dear [PERSON], badge [EMPLOYEE_ID] expired."


def test_names_in_a_streamed_answer_are_redacted_like_a_whole_one(gateway: Gateway) -> None:
    set_policy(gateway, entities={"PERSON": "mask"})
    client = gateway.openai()
    messages = [{"role": "user", "content": say("Dear Ada Lovelace, your badge expired.")}]
    whole = client.chat.completions.create(model="chat", messages=messages)
    assert whole.choices[0].message.content == "Dear [PERSON], your badge expired."
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model="chat", messages=messages, stream=True)
        if chunk.choices
    )
    assert streamed == whole.choices[0].message.content


def test_a_policy_that_cannot_run_fails_closed(gateway: Gateway) -> None:
    """A pattern web accepted but this proxy's RE2 refuses: 500, and nothing is forwarded."""
    set_policy(gateway, entities={"EMAIL": "mask"})
    client = get_redis()
    org_key = None
    for key in client.scan_iter("sel:{*}:snapshot"):
        body = orjson.loads(client.hget(key, "body"))
        if any(route == "chat" for route in body["routes"]) and body.get("pii"):
            org_key = key
            break
    assert org_key is not None
    body["pii"]["custom_patterns"] = [{"name": "BAD", "regex": "(a", "action": "mask"}]
    body["version"] += 1
    client.hset(
        snapshot_key(body["org_id"]),
        mapping={"version": body["version"], "body": orjson.dumps(body)},
    )
    client.publish(CHANNEL, f"{body['org_id']}:{body['version']}")

    def refused() -> bool:
        # Until the proxy has read the new snapshot, requests are served as before.
        response = httpx.post(
            f"{gateway.proxy_url}/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hello"}]},
            headers={"authorization": f"Bearer {gateway.key}"},
            timeout=30,
        )
        return response.status_code == 500

    eventually(refused, 15, "the proxy reading the new snapshot")
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    with pytest.raises(openai.InternalServerError) as raised:
        gateway.openai().chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hello"}]
        )
    assert raised.value.body["code"] == "pii_scan_failed"
    assert gateway.recorded()["total"] == 0
    metrics = gateway.metrics()
    assert 'selixes_pii_failures_total{code="pii_scan_failed"}' in metrics


def test_metrics_count_redactions_without_values(gateway: Gateway, alice: Persona) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    series = 'selixes_pii_redactions_total{action="mask",entity="EMAIL",where="prompt"} '

    def counted() -> int:
        metrics = gateway.metrics()
        assert EMAIL not in metrics and str(alice.org.id) not in metrics
        lines = [line for line in metrics.splitlines() if line.startswith(series)]
        return int(float(lines[0].removeprefix(series))) if lines else 0

    before = counted()
    gateway.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": f"to {EMAIL} and {EMAIL}"}]
    )
    assert counted() == before + 2


def test_invalid_utf8_and_deep_nesting_are_refused(gateway: Gateway) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    headers = {"authorization": f"Bearer {gateway.key}", "content-type": "application/json"}
    url = f"{gateway.proxy_url}/v1/chat/completions"
    bad = b'{"model": "chat", "messages": [{"role": "user", "content": "caf\xe9"}]}'
    response = httpx.post(url, content=bad, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    nested: Any = "deep"
    for _ in range(80):
        nested = {"type": "text", "content": [nested]}
    body = {"model": "chat", "messages": [{"role": "user", "content": [nested]}]}
    response = httpx.post(url, content=orjson.dumps(body), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_deep"
    assert gateway.recorded()["total"] == 0


def test_anthropic_tool_use_answers_are_redacted_streamed_or_not(gateway: Gateway) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    gateway.route("claude", gateway.anthropic_deployment())
    client = gateway.anthropic_client()
    request: dict[str, Any] = {
        "model": "claude",
        "max_tokens": 100,
        "tools": [
            {
                "name": "send",
                "input_schema": {"type": "object", "properties": {"to": {"type": "string"}}},
            }
        ],
        "messages": [{"role": "user", "content": say(f"mail {EMAIL} today")}],
    }
    whole = client.messages.create(**request)
    assert whole.content[0].input == {"to": "mail [EMAIL] today"}
    with client.messages.stream(**request) as stream:
        final = stream.get_final_message()
    assert final.content[0].input == {"to": "mail [EMAIL] today"}
