"""Hostile and malformed input to a proxy with a PII policy, end to end.

Real proxy process, real mock provider (tests/gateway/proxy/conftest.py). What is
already covered in test_pii_redaction.py (obfuscated cards in a prompt,
`caf\\xe9` in a chat body, 80 levels of content parts) is not repeated here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from tests.factories.pii import EMAIL, SSN, VALIDATORS, say, set_policy
from tests.gateway.proxy.conftest import Gateway
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)

# Zero-width spaces inside one card number, full-width digits in another, and
# both at once in a third: each is one Luhn-valid 4111... number once folded.
ZERO_WIDTH_CARD = "4111\u200b1111\u200b1111\u200b1111"
FULL_WIDTH_CARD = "\uff14\uff11\uff11\uff11 1111 1111 1111"
MIXED_CARD = "\uff14\u200b111 \uff11\u200c111 1\u200d111 1111"
CARDS_TEXT = f"cards {ZERO_WIDTH_CARD} and {FULL_WIDTH_CARD} and {MIXED_CARD} end"
CARDS_MASKED = "cards [CREDIT_CARD] and [CREDIT_CARD] and [CREDIT_CARD] end"
MB = 1024 * 1024
# Generous: a bound on a hang, not a speed target.
TIMEOUT_S = 60


def post(gateway: Gateway, path: str, body: bytes | Iterator[bytes]) -> httpx.Response:
    return httpx.post(
        f"{gateway.proxy_url}{path}",
        content=body,
        headers={"authorization": f"Bearer {gateway.key}", "content-type": "application/json"},
        timeout=TIMEOUT_S,
    )


def chat(gateway: Gateway, content: Any, **extra: Any) -> httpx.Response:
    body = {"model": "chat", "messages": [{"role": "user", "content": content}], **extra}
    return post(gateway, "/v1/chat/completions", orjson.dumps(body))


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    """The documented error shape, the status and code given, and JSON (never SSE)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert error["message"]


def assert_still_serving(gateway: Gateway, masked: bool = True) -> None:
    response = chat(gateway, f"still there? {EMAIL}")
    assert response.status_code == 200, response.text
    sent = gateway.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == f"still there? {'[EMAIL]' if masked else EMAIL}"


def streamed_text(raw: bytes) -> str:
    chunks = [
        orjson.loads(line[6:])
        for line in raw.split(b"\n")
        if line.startswith(b"data: {") and b'"choices"' in line
    ]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def assert_no_card_digits(raw: bytes) -> None:
    text = raw.decode()
    for leak in ("4111", "\uff14", "\uff11", "\\uff1", "1111 1111"):
        assert leak not in text, leak


# --- obfuscated numbers ----------------------------------------------------


def test_obfuscated_cards_in_content_parts_and_tool_arguments_are_masked(
    gateway: Gateway,
) -> None:
    set_policy(gateway, entities=VALIDATORS)
    arguments = orjson.dumps({"card": MIXED_CARD, "notes": [ZERO_WIDTH_CARD]}).decode()
    messages = [
        {"role": "user", "content": [{"type": "text", "text": CARDS_TEXT}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "pay", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": f"charged {FULL_WIDTH_CARD}"},
        {"role": "user", "content": "ok"},
    ]
    response = post(
        gateway,
        "/v1/chat/completions",
        orjson.dumps({"model": "chat", "messages": messages}),
    )
    assert response.status_code == 200, response.text
    body = gateway.recorded()["last"]["body"]
    assert body["messages"][0]["content"][0]["text"] == CARDS_MASKED
    sent_arguments = body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert orjson.loads(sent_arguments) == {"card": "[CREDIT_CARD]", "notes": ["[CREDIT_CARD]"]}
    assert body["messages"][2]["content"] == "charged [CREDIT_CARD]"
    assert_no_card_digits(orjson.dumps(body))
    assert "CREDIT_CARD:mask:6" in response.headers["x-selixes-redactions"].split(",")


def test_obfuscated_cards_in_an_answer_are_masked_streamed_or_not(gateway: Gateway) -> None:
    set_policy(gateway, entities={"CREDIT_CARD": "mask"})
    # The mock streams the answer a word at a time: the full-width and mixed
    # numbers reach the proxy in four chunks each.
    whole = chat(gateway, say(CARDS_TEXT))
    assert whole.status_code == 200, whole.text
    assert whole.json()["choices"][0]["message"]["content"] == CARDS_MASKED
    assert_no_card_digits(whole.content)
    assert whole.headers["x-selixes-redactions"] == "CREDIT_CARD:mask:3:answer"
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        json={
            "model": "chat",
            "stream": True,
            "messages": [{"role": "user", "content": say(CARDS_TEXT)}],
        },
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=TIMEOUT_S,
    ) as streamed:
        raw = streamed.read()
    assert streamed.status_code == 200
    assert streamed_text(raw) == CARDS_MASKED
    assert_no_card_digits(raw)


def test_obfuscated_cards_in_an_anthropic_stream_are_masked(gateway: Gateway) -> None:
    set_policy(gateway, entities={"CREDIT_CARD": "mask"})
    gateway.route("claude", gateway.anthropic_deployment())
    with gateway.anthropic_client().messages.stream(
        model="claude", max_tokens=200, messages=[{"role": "user", "content": say(CARDS_TEXT)}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert text == CARDS_MASKED


# --- nesting -----------------------------------------------------------------


def nested_arrays(depth: int, leaf: bytes) -> bytes:
    return b"[" * depth + leaf + b"]" * depth


def nested_objects(depth: int, leaf: bytes) -> bytes:
    return b'{"type":"text","text":"x","content":' * depth + leaf + b"}" * depth


@pytest.mark.parametrize("with_policy", [True, False], ids=["policy", "no policy"])
def test_ten_thousand_levels_of_content_are_a_400_not_a_crash(
    gateway: Gateway, with_policy: bool
) -> None:
    if with_policy:
        set_policy(gateway, entities=VALIDATORS)
    leaf = orjson.dumps(f"ssn {SSN}")
    prefix = b'{"model":"chat","messages":[{"role":"user","content":'
    bodies = {
        "arrays in content": prefix + nested_arrays(10_000, leaf) + b"}]}",
        "parts in content": prefix + b"[" + nested_objects(10_000, leaf) + b"]}]}",
        "anthropic tool_use input": (
            b'{"model":"chat","max_tokens":10,"messages":[{"role":"assistant","content":'
            b'[{"type":"tool_use","id":"t","name":"f","input":'
            + nested_objects(10_000, leaf)
            + b"}]}]}"
        ),
    }
    for name, body in bodies.items():
        path = "/v1/messages" if name.startswith("anthropic") else "/v1/chat/completions"
        response = post(gateway, path, body)
        assert_refused(response, 400, "invalid_json")
        assert SSN not in response.text, name
    assert gateway.recorded()["total"] == 0
    assert_still_serving(gateway, masked=with_policy)


def test_tool_arguments_nested_ten_thousand_deep_never_carry_pii_through(
    gateway: Gateway,
) -> None:
    """A JSON string too deep to parse is either refused or scanned as text; never a 500."""
    set_policy(gateway, entities=VALIDATORS)
    arguments = '{"a":' * 10_000 + orjson.dumps(f"ssn {SSN} mail {EMAIL}").decode() + "}" * 10_000
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": "done"},
        {"role": "user", "content": "go on"},
    ]
    response = post(
        gateway, "/v1/chat/completions", orjson.dumps({"model": "chat", "messages": messages})
    )
    if response.status_code == 400:
        assert_refused(response, 400, response.json()["error"]["code"])
        assert gateway.recorded()["total"] == 0
    else:
        assert response.status_code == 200, response.text
        seen = orjson.dumps(gateway.recorded()["last"]["body"]).decode()
        assert SSN not in seen and EMAIL not in seen
        assert "[US_SSN]" in seen and "[EMAIL]" in seen
    assert_still_serving(gateway)


@pytest.mark.parametrize("where", ["metadata", "tool parameters"])
def test_nesting_the_parser_accepts_but_the_provider_body_cannot_hold_is_a_400(
    gateway: Gateway, where: str
) -> None:
    set_policy(gateway, entities=VALIDATORS)
    deep = b'{"a":' * 300 + b'"x"' + b"}" * 300
    body = b'{"model":"chat","messages":[{"role":"user","content":"hi"}],'
    if where == "metadata":
        body += b'"metadata":' + deep + b"}"
    else:
        body += (
            b'"tools":[{"type":"function","function":{"name":"f","parameters":'
            b'{"type":"object","properties":{"a":' + deep + b"}}}}]}"
        )
    response = post(gateway, "/v1/chat/completions", body)
    assert gateway.recorded()["total"] == 0
    assert_refused(response, 400, "too_deep")


# --- bytes that are not UTF-8 ------------------------------------------------


INVALID_UTF8 = {
    "truncated sequence": b"\xe2\x82",
    "overlong slash": b"\xc0\xaf",
    "encoded surrogate": b"\xed\xa0\x80",
    "lone continuation": b"\x80",
    "beyond U+10FFFF": b"\xf4\x90\x80\x80",
    "escaped lone surrogate": b"\\ud800",
}


@pytest.mark.parametrize("bad", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_invalid_utf8_is_a_400_on_every_endpoint(gateway: Gateway, bad: bytes) -> None:
    set_policy(gateway, entities=VALIDATORS)
    text = b'"mail ' + EMAIL.encode() + b" " + bad + b'"'
    user = b'{"role":"user","content":' + text + b"}"
    part = b'{"role":"user","content":[{"type":"text","text":' + text + b"}]}"
    bodies = [
        ("/v1/chat/completions", b'{"model":"chat","messages":[' + user + b"]}"),
        ("/v1/chat/completions", b'{"model":"chat","stream":true,"messages":[' + part + b"]}"),
        ("/v1/messages", b'{"model":"chat","max_tokens":10,"messages":[' + user + b"]}"),
        ("/v1/embeddings", b'{"model":"chat","input":[' + text + b"]}"),
    ]
    for path, body in bodies:
        response = post(gateway, path, body)
        assert_refused(response, 400, "invalid_json")
        # The refusal names the problem, never the text around it.
        assert EMAIL not in response.text, path
    assert gateway.recorded()["total"] == 0
    assert_still_serving(gateway)


# --- size ---------------------------------------------------------------------


def test_five_megabytes_of_prose_are_redacted_whole(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    filler = "The quick brown fox jumps over the lazy dog. " * (5 * MB // 45)
    text = f"mail {EMAIL} first. {filler} then card {FULL_WIDTH_CARD} last"
    response = chat(gateway, text)
    assert response.status_code == 200, response.text
    sent = gateway.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == f"mail [EMAIL] first. {filler} then card [CREDIT_CARD] last"
    assert_still_serving(gateway)


def test_five_megabytes_of_digits_are_redacted_whole(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    # One unbroken run of digits is no card, phone or SSN; the card after it is.
    digits = "0123456789" * (5 * MB // 10)
    response = chat(gateway, f"{digits} card {ZERO_WIDTH_CARD}")
    assert response.status_code == 200, response.text
    sent = gateway.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == f"{digits} card [CREDIT_CARD]"
    assert_still_serving(gateway)


def test_a_large_digit_heavy_prompt_does_not_hold_up_other_requests(gateway: Gateway) -> None:
    # Seconds of validator work (digit groups everywhere look like phone
    # numbers). Scanned on the event loop, it held up every other request of
    # the process until it was done and on its way to the provider; off the
    # loop, small requests sent once the large body is uploaded are answered
    # while the large one has still not reached the provider. Told apart by
    # what the provider has seen, not by a clock.
    set_policy(gateway, entities=VALIDATORS)
    large_body = orjson.dumps(
        {"model": "chat", "messages": [{"role": "user", "content": "1234 " * 400_000 + EMAIL}]}
    )
    uploaded = threading.Event()

    def uploading() -> Iterator[bytes]:
        for start in range(0, len(large_body), MB):
            yield large_body[start : start + MB]
        uploaded.set()

    httpx.post(f"{gateway.mock_url}/_mock/reset")
    answered_first = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        large = pool.submit(post, gateway, "/v1/chat/completions", uploading())
        eventually(uploaded.is_set, TIMEOUT_S, "the large body uploaded")
        while answered_first < 3:
            small = chat(gateway, f"quick one {EMAIL}")
            assert small.status_code == 200, small.text
            if large.done() or gateway.recorded()["total"] > answered_first + 1:
                break  # the large one reached the provider first
            answered_first += 1
        large_response = large.result()
    assert large_response.status_code == 200, large_response.text
    assert answered_first == 3


def test_enormous_prompts_under_a_names_policy_are_refused_clearly(gateway: Gateway) -> None:
    set_policy(gateway, entities={"PERSON": "mask", **VALIDATORS})
    for text in ("Ada Lovelace wrote. " * (5 * MB // 20), "0123456789" * (5 * MB // 10)):
        response = chat(gateway, text)
        assert_refused(response, 400, "pii_text_too_large")
        assert "Lovelace" not in response.text
    assert gateway.recorded()["total"] == 0
    assert_still_serving(gateway)


def test_a_body_over_the_size_limit_is_a_413(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    response = chat(gateway, f"{EMAIL} " + "x" * (11 * MB))
    assert_refused(response, 413, "body_too_large")
    assert gateway.recorded()["total"] == 0
    assert_still_serving(gateway)
