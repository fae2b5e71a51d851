# The SDKs type their parameters as TypedDict unions; plain dict literals read better here.
# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""The gateway as an application sees it: official SDKs -> real proxy process -> mock provider."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from infra.run import uvicorn_command
from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona
from tests.gateway.proxy.conftest import PROVIDER_KEY, Gateway, proxy_env
from tests.polling import eventually
from tests.servers import free_port, serving

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_openai_sdk_chats_through_the_proxy(gateway: Gateway) -> None:
    response = gateway.openai().chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "hello there gateway"}]
    )
    completion = response.parse()
    assert completion.choices[0].message.content
    assert completion.choices[0].message.content.startswith("Mock answer to:")
    assert completion.usage is not None and completion.usage.prompt_tokens == 3
    assert response.headers["x-selixes-model"] == "gpt-mock"
    last = gateway.recorded()["last"]
    # The provider saw the org's provider key, never the caller's Selixes key.
    assert last["api_key"] == PROVIDER_KEY
    assert gateway.key not in str(last["headers"])


def test_streams_arrive_as_chunks_with_usage_only_when_asked(gateway: Gateway) -> None:
    client = gateway.openai()
    messages = [{"role": "user", "content": "stream please"}]
    plain = list(client.chat.completions.create(model="chat", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in plain if c.choices).startswith(
        "Mock answer"
    )
    assert all(c.usage is None for c in plain)
    with_usage = list(
        client.chat.completions.create(
            model="chat",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert with_usage[-1].usage is not None and with_usage[-1].usage.prompt_tokens == 2


def test_tool_calls_and_embeddings_work(gateway: Gateway) -> None:
    client = gateway.openai()
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    completion = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "weather?"}], tools=tools
    )
    call = completion.choices[0].message.tool_calls
    assert call and call[0].function.name == "get_weather"
    gateway.route("embed", gateway.openai_compatible("text-embedding-mock"))
    embedded = client.embeddings.create(model="embed", input=["one", "two"])
    assert len(embedded.data) == 2 and len(embedded.data[0].embedding) > 0


def test_the_anthropic_sdk_reaches_an_openai_style_provider(gateway: Gateway) -> None:
    client = gateway.anthropic_client()
    message = client.messages.create(
        model="chat", max_tokens=100, messages=[{"role": "user", "content": "hi from claude"}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("Mock answer")
    assert message.usage.input_tokens == 3
    with client.messages.stream(
        model="chat", max_tokens=100, messages=[{"role": "user", "content": "stream it"}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert text.startswith("Mock answer")


def test_the_openai_sdk_reaches_an_anthropic_provider(gateway: Gateway) -> None:
    gateway.route("claude", gateway.anthropic_deployment())
    client = gateway.openai()
    completion = client.chat.completions.create(
        model="claude",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    )
    assert (completion.choices[0].message.content or "").startswith("Mock answer")
    streamed = client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    last = gateway.recorded()["last"]
    assert last["path"] == "/v1/messages"
    assert last["api_key"] == "sk-ant-mock-key-456"


def test_anthropic_form_reaches_anthropic_natively_keeping_provider_only_fields(
    gateway: Gateway,
) -> None:
    gateway.route("claude", gateway.anthropic_deployment())
    client = gateway.anthropic_client()
    system = [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]
    message = client.messages.create(
        model="claude",
        max_tokens=50,
        system=system,
        messages=[{"role": "user", "content": "hello natively"}],
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    assert message.content[0].type == "text"
    assert message.usage.input_tokens > 0
    last = gateway.recorded()["last"]
    sent = last["body"]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["model"] == "claude-mock"
    # Beta features the client opted into reach Anthropic with the body.
    assert last["headers"]["anthropic-beta"] == "prompt-caching-2024-07-31"
    with pytest.raises(anthropic.BadRequestError, match="anthropic-beta"):
        client.messages.create(
            model="claude",
            max_tokens=5,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"anthropic-beta": "x\u00e9" * 3},
        )
    with client.messages.stream(
        model="claude", max_tokens=50, messages=[{"role": "user", "content": "stream natively"}]
    ) as stream:
        assert "".join(stream.text_stream).startswith("Mock answer")


def test_a_failing_deployment_is_skipped_and_the_chain_reported(gateway: Gateway) -> None:
    gateway.route(
        "resilient",
        gateway.openai_compatible("mock-error-500"),
        gateway.openai_compatible("gpt-mock"),
    )
    response = gateway.openai().chat.completions.with_raw_response.create(
        model="resilient", messages=[{"role": "user", "content": "hi"}]
    )
    assert response.headers["x-selixes-model"] == "gpt-mock"
    assert response.headers["x-selixes-fallbacks"] == "openai_compatible/mock-error-500"


def test_when_every_deployment_fails_the_sdk_gets_an_upstream_error(gateway: Gateway) -> None:
    gateway.route(
        "broken",
        gateway.openai_compatible("mock-error-503"),
        gateway.openai_compatible("mock-error-429"),
    )
    with pytest.raises(openai.APIStatusError) as raised:
        gateway.openai().chat.completions.create(
            model="broken", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 502
    error = raised.value.body
    assert isinstance(error, dict)
    assert error["type"] == "upstream_error"
    assert "mock-error-503" in error["message"] and "mock-error-429" in error["message"]


def test_sdk_errors_are_typed(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError):
        gateway.openai().chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    bad = openai.OpenAI(
        base_url=f"{gateway.proxy_url}/v1", api_key="sk-sel-wrongwrongwrong", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="chat", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        gateway.openai().chat.completions.create(model="chat", messages=[])
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(
            base_url=gateway.proxy_url, api_key="sk-sel-nopenopenope", max_retries=0
        ).messages.create(model="chat", max_tokens=5, messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (b"[]", 400), (b'{"model": "chat"}', 400), (b"x" * 11_000_000, 413)],
)
def test_bad_bodies_get_the_documented_error_shape(
    gateway: Gateway, body: bytes, status: int
) -> None:
    response = httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        content=body,
        headers={"authorization": f"Bearer {gateway.key}", "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "code", "param"}


def test_a_stream_cut_after_bytes_were_sent_ends_with_an_error_the_sdk_raises(
    gateway: Gateway,
) -> None:
    gateway.route("cut", gateway.openai_compatible("mock-cut-stream-chunks-20"))
    stream = gateway.openai().chat.completions.create(
        model="cut", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


def test_chunk_one_reaches_the_client_before_chunk_two_exists(gateway: Gateway) -> None:
    # The mock waits 3 s between chunks; a proxy that buffered the stream could
    # not deliver the first chunk inside the 1.5 s read timeout below.
    gateway.route("paused", gateway.openai_compatible("mock-pause-3000-chunks-2"))
    timeout = httpx.Timeout(10, read=1.5)
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": "paused", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=timeout,
    ) as response:
        first = next(response.iter_lines())
    assert first.startswith("data: ")


def test_a_client_that_leaves_cancels_the_upstream_and_is_still_logged(
    gateway: Gateway, redis_client: object, alice: Persona
) -> None:
    gateway.route("long", gateway.openai_compatible("mock-pause-200-chunks-50"))
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": "long", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=10,
    ) as response:
        request_id = response.headers["x-request-id"]
        next(response.iter_lines())
    eventually(
        lambda: gateway.recorded()["disconnects"] >= 1, 15, "the provider seeing the hang-up"
    )

    def logged() -> RequestLog | None:
        drain_usage_stream()
        return RequestLog.objects.filter(request_id=request_id).first()

    row = eventually(logged, 15, f"request {request_id} reaching the log")
    assert row.client_disconnected
    assert row.org_id == alice.org.id


def test_every_request_lands_in_the_request_log_without_text(gateway: Gateway) -> None:
    gateway.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "secret words here"}]
    )

    def logged() -> RequestLog | None:
        drain_usage_stream()
        return RequestLog.objects.filter(model_requested="chat").first()

    row = eventually(logged, 15, "the request reaching the log")
    assert (row.input_tokens, row.provider, row.status) == (3, "openai_compatible", 200)
    listed = gateway.api.get("/api/v1/requests/").json()["data"]
    assert listed[0]["model_dispatched"] == "gpt-mock"
    assert "secret" not in str(listed)


@pytest.fixture(scope="module")
def guarded_proxy_url() -> Iterator[str]:
    """A proxy with the default SELIXES_PRIVATE_UPSTREAMS=deny (the managed cloud's setting)."""
    port = free_port()
    command = uvicorn_command("gateway.proxy.asgi:app", port)
    env = proxy_env(SELIXES_PRIVATE_UPSTREAMS="deny")
    with serving(command, port, env, "proxy") as url:
        yield url


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_guarded_proxy_refuses_private_upstreams_at_connect_time(
    gateway: Gateway, guarded_proxy_url: str, host: str
) -> None:
    # The route was saved where private upstreams were allowed (or DNS changed
    # since): the proxy's own check at connect time still refuses it.
    deployment = gateway.openai_compatible()
    deployment["api_base"] = deployment["api_base"].replace("127.0.0.1", host)
    gateway.route("internal", deployment)
    client = openai.OpenAI(base_url=f"{guarded_proxy_url}/v1", api_key=gateway.key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(
            model="internal", messages=[{"role": "user", "content": "reach inside"}]
        )
    assert refused.value.status_code == 502
    assert "upstream_forbidden" in refused.value.message
    assert gateway.recorded()["total"] == 0
