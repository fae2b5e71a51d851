"""The PII stage never forwards an answer it did not scan, whatever its shape.

An Anthropic deployment's answers go back to an Anthropic client byte for byte
(native passthrough), so a provider (or anything posing as one at the
deployment's api_base) decides their shape. The mock's `odd-shape` scenario
answers with valid JSON in shapes the API never sends: a whole answer whose
`content` is a bare string, a stream whose content events are bare JSON
strings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from tests.factories.pii import EMAIL, VALIDATORS, say, set_policy
from tests.gateway.proxy.conftest import Gateway

pytestmark = pytest.mark.django_db(transaction=True)


def _odd_claude(gateway: Gateway) -> None:
    set_policy(gateway, entities=VALIDATORS)
    gateway.route("claude", gateway.anthropic_deployment("claude-mock-odd-shape"))


def _messages(gateway: Gateway, stream: bool) -> dict[str, object]:
    return {
        "model": "claude",
        "max_tokens": 100,
        "stream": stream,
        "messages": [{"role": "user", "content": say(f"Write to {EMAIL} today.")}],
    }


def _headers(gateway: Gateway) -> dict[str, str]:
    return {"x-api-key": gateway.key, "anthropic-version": "2023-06-01"}


def test_it_masks_an_answer_whose_content_is_not_a_list_of_blocks(gateway: Gateway) -> None:
    _odd_claude(gateway)
    response = httpx.post(
        f"{gateway.proxy_url}/v1/messages",
        json=_messages(gateway, stream=False),
        headers=_headers(gateway),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert EMAIL not in response.text
    assert response.json()["content"] == "Write to [EMAIL] today."
    assert "EMAIL:mask:1:answer" in response.headers["x-selixes-redactions"].split(",")


def test_it_ends_a_stream_whose_event_is_not_an_object_before_forwarding_it(
    gateway: Gateway,
) -> None:
    _odd_claude(gateway)
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/messages",
        json=_messages(gateway, stream=True),
        headers=_headers(gateway),
        timeout=30,
    ) as response:
        assert response.status_code == 200
        received = b"".join(response.iter_bytes())
    assert EMAIL.encode() not in received
    assert b"Write" not in received  # no piece of the unscanned content went out
    last = received.strip().split(b"\n\n")[-1]
    assert last.startswith(b"event: error\n")
    error = orjson.loads(last.split(b"data: ", 1)[1])
    assert error["type"] == "error"
    assert "shape the PII scanner does not know" in error["error"]["message"]


class _SelfHostedServer(BaseHTTPRequestHandler):
    """A tenant's own OpenAI-compatible server: text in fields beside `content`."""

    def do_POST(self) -> None:  # http.server's name
        body = orjson.loads(self.rfile.read(int(self.headers["content-length"])))
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        if body.get("stream"):
            deltas = [{"role": "assistant", "refusal": f"I won't email {EMAIL}"}]
            deltas.append({"reasoning_content": f"the user is {EMAIL}"})
            chunks = [
                {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
                for d in deltas
            ]
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            data = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks)
            data += b"data: [DONE]\n\n"
            kind = "text/event-stream"
        else:
            choice = {"index": 0, "text": f"write to {EMAIL}", "finish_reason": "stop"}
            usage = {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}
            data = orjson.dumps({**base, "choices": [choice], "usage": usage})
            kind = "application/json"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def self_hosted_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SelfHostedServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_text_beside_the_content_never_reaches_the_client_unmasked(
    gateway: Gateway, self_hosted_url: str, stream: bool
) -> None:
    set_policy(gateway, entities=VALIDATORS)
    price = {"input_per_mtok": "1", "output_per_mtok": "1"}
    gateway.route(
        "own",
        {"provider": "vllm", "model": "m", "api_base": f"{self_hosted_url}/v1", "price": price},
    )
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": "own", "messages": [{"role": "user", "content": "hi"}], "stream": stream},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert EMAIL not in response.text
    assert "[EMAIL" in response.text
