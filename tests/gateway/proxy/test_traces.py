"""Observability on: the proxy seals what crossed it onto the usage event, and only then.

The proxy runs in process (ProxyApp, its real stages and Redis) against the
real mock provider; the tenant's snapshot is built with tests/factories and
written to Redis as web publishes it. A trace is opened with the data key
the snapshot's observability part was built with, as web will open it.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from django.conf import settings

from gateway.proxy import metrics
from gateway.proxy.app import ProxyApp
from gateway.proxy.config import ProxySettings
from gateway.proxy.context import RequestContext
from gateway.proxy.http import Message
from gateway.proxy.trace.seal import TraceSealer
from gateway.shared import credentials
from gateway.shared.crypto import MasterKeys, pii_secret_context, provider_key_context
from gateway.shared.snapshot import (
    DeploymentEntry,
    ObservabilityEntry,
    PiiPolicyEntry,
    Snapshot,
    key_index_key,
    snapshot_key,
)
from gateway.shared.traces import PART_MAX_BYTES, open_trace, trace_context
from gateway.shared.usage_event import STREAM, UsageEvent
from tests.factories.snapshots import ORG, key_entry, observability, tenant, utc_day
from tests.gateway.mock_provider.conftest import (
    mock_url,  # noqa: F401  # shared fixture
    sse_events,
)

MASTER = MasterKeys.parse(settings.SELIXES_MASTER_KEYS)
PROVIDER_KEY_ID = "pk-1"
EMAIL = "ann.lee@example.org"
PHONE = "+1 415-555-0132"
PII_SECRET = b"p" * 32


def say(text: str) -> str:
    """A prompt the mock answers with `text` verbatim."""
    return "say:" + base64.b64encode(text.encode()).decode()


def mock_deployment(mock: str, model: str = "gpt-mock") -> DeploymentEntry:
    return {
        "id": "chat#0",
        "provider": "openai_compatible",
        "model": model,
        "api_base": f"{mock}/v1",
        "api_version": None,
        "provider_key_id": PROVIDER_KEY_ID,
        "weight": 1,
        "quality": None,
        "price": {"input_per_mtok": "1.000000", "output_per_mtok": "2.000000"},
        "timeout_s": 30.0,
        "connect_timeout_s": 5.0,
    }


def pii_policy(action: str = "mask", restore: bool = False) -> PiiPolicyEntry:
    return {
        "enabled": True,
        "entities": {"EMAIL": action, "PHONE": action},
        "custom_patterns": [],
        "restore_in_response": restore,
    }


@dataclass
class Proxy:
    app: ProxyApp
    http: httpx.AsyncClient
    redis: Any  # redis.asyncio.Redis, whose replies the stubs type loosely
    api_key: str
    mock: str
    version: int = 1

    async def publish(
        self,
        obs: ObservabilityEntry | None,
        pii: PiiPolicyEntry | None = None,
        models: tuple[str, ...] = ("gpt-mock",),
    ) -> Snapshot:
        """Write ORG's snapshot (its key, a route "chat" to the mock, `obs`, `pii`) as web does."""
        snapshot = tenant()
        prefix = credentials.display_prefix(self.api_key, credentials.API_KEY_PREFIX)
        key_hash = credentials.hash_secret(self.app.settings.hash_key, self.api_key)
        snapshot["keys"] = {prefix: {**snapshot["keys"]["sk-sel-x"], "hash": key_hash}}
        snapshot["provider_keys"] = {
            PROVIDER_KEY_ID: {
                "provider": "openai_compatible",
                "sealed": MASTER.seal(b"sk-mock-0123", provider_key_context(ORG, PROVIDER_KEY_ID)),
            }
        }
        deployments = []
        for index, model in enumerate(models):
            entry = mock_deployment(self.mock, model)
            entry["id"] = f"chat#{index}"
            deployments.append(entry)
        snapshot["routes"] = {
            "chat": {"strategy": "priority", "min_quality": None, "deployments": deployments}
        }
        if obs is not None:
            snapshot["observability"] = obs
        if pii is not None:
            snapshot["pii"] = pii
            snapshot["pii_secret"] = MASTER.seal(PII_SECRET, pii_secret_context(ORG))
        self.version += 1
        snapshot["version"] = self.version
        await self.redis.hset(
            snapshot_key(ORG), mapping={"version": self.version, "body": orjson.dumps(snapshot)}
        )
        await self.redis.set(key_index_key(key_hash), ORG)
        return snapshot

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            path, json=body, headers={"authorization": f"Bearer {self.api_key}"}
        )

    async def event(self) -> UsageEvent:
        """The one usage event the last request wrote (the emitter flushed first)."""
        assert self.app.emitter is not None
        await self.app.emitter.flush()
        entries = await self.redis.xrange(STREAM)
        assert entries, "no usage event was written"
        await self.redis.delete(STREAM)
        assert len(entries) == 1, entries
        event: UsageEvent = orjson.loads(entries[-1][1][b"e"])
        return event


def opened(event: UsageEvent, keys: dict[str, bytes]) -> dict[str, Any]:
    """Open the event's trace as web does: the day's key, bound to org, day and request."""
    envelope = event["trace"]
    day = envelope["day"]
    context = trace_context(ORG, day, event["request_id"])
    trace: dict[str, Any] = orjson.loads(open_trace(keys[day], envelope["sealed"], context))
    return trace


def streamed_text(sse: str) -> str:
    """The text an OpenAI stream's content deltas add up to."""
    chunks = [orjson.loads(data) for _, data in sse_events(sse) if data and data != "[DONE]"]
    return "".join(
        chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk["choices"]
    )


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "chat", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
async def proxy(mock_url: str) -> AsyncIterator[Proxy]:  # noqa: F811  # the fixture imported above
    app = ProxyApp(
        ProxySettings(
            redis_url=settings.REDIS_URL,
            hash_key=settings.SELIXES_HASH_KEY.encode(),
            allow_private_upstreams=True,
            metrics_port=0,
            snapshot_max_age_s=0.0,  # each request sees the snapshot a test just wrote
            master_keys=settings.SELIXES_MASTER_KEYS,
        )
    )
    await app.startup()
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    api_key, _ = credentials.generate(credentials.API_KEY_PREFIX)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as http:
        yield Proxy(app, http, client, api_key, mock_url)
    await app.shutdown()
    await client.aclose()


def dropped(reason: str) -> float:
    value = metrics.REGISTRY.get_sample_value("selixes_traces_dropped_total", {"reason": reason})
    return value or 0.0


async def test_a_whole_answer_is_sealed_with_the_request_as_sent(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    response = await proxy.post("/v1/chat/completions", chat(say("The sky is blue today.")))
    assert response.status_code == 200
    event = await proxy.event()
    assert event["trace"]["day"] == utc_day(event["ts"])
    trace = opened(event, keys)
    async with httpx.AsyncClient() as mock:
        sent = (await mock.get(f"{proxy.mock}/_mock/requests")).json()["last"]["body"]
    assert trace["request"] == sent  # the provider's body, model and all, as it left
    assert trace["request"]["model"] == "gpt-mock"
    assert trace["response"] == response.json()
    assert trace["truncated"] is False
    # Sealed: the answer's words are nowhere in the event as it sits on the stream.
    assert "sky is blue" not in orjson.dumps(event).decode()


async def test_a_trace_opens_only_for_its_own_request(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    await proxy.post("/v1/chat/completions", chat("hello"))
    event = await proxy.event()
    day = event["trace"]["day"]
    with pytest.raises(Exception, match="does not open"):
        open_trace(keys[day], event["trace"]["sealed"], trace_context(ORG, day, "other-request"))


async def test_with_observability_off_the_event_has_no_trace(proxy: Proxy) -> None:
    await proxy.publish(None)
    assert (await proxy.post("/v1/chat/completions", chat("hello"))).status_code == 200
    assert "trace" not in await proxy.event()
    obs, _ = observability(MASTER, enabled=False)
    await proxy.publish(obs)
    assert (await proxy.post("/v1/chat/completions", chat("hello"))).status_code == 200
    assert "trace" not in await proxy.event()


async def test_a_project_override_wins_both_ways(proxy: Proxy) -> None:
    obs, keys = observability(MASTER, enabled=True, projects={"project-1": False})
    await proxy.publish(obs)
    await proxy.post("/v1/chat/completions", chat("hello"))
    assert "trace" not in await proxy.event()
    obs, keys = observability(MASTER, enabled=False, projects={"project-1": True})
    await proxy.publish(obs)
    await proxy.post("/v1/chat/completions", chat("hello"))
    assert opened(await proxy.event(), keys)["request"]["messages"][0]["content"] == "hello"
    # Another project's override says nothing about this key's project.
    obs, keys = observability(MASTER, enabled=True, projects={"project-2": False})
    await proxy.publish(obs)
    await proxy.post("/v1/chat/completions", chat("hello"))
    assert "trace" in await proxy.event()


async def test_without_a_data_key_the_trace_is_dropped_and_counted(proxy: Proxy) -> None:
    obs, _ = observability(MASTER, days=("2000-01-01",))
    await proxy.publish(obs)
    before = dropped("no_data_key")
    response = await proxy.post("/v1/chat/completions", chat("hello"))
    assert response.status_code == 200
    assert "trace" not in await proxy.event()
    assert dropped("no_data_key") == before + 1


async def test_a_data_key_that_does_not_open_is_dropped_and_counted(proxy: Proxy) -> None:
    other = MasterKeys.parse("other:" + base64.b64encode(b"o" * 32).decode())
    obs, _ = observability(other)  # sealed under a master key this proxy does not hold
    await proxy.publish(obs)
    before = dropped("key_unreadable")
    assert (await proxy.post("/v1/chat/completions", chat("hello"))).status_code == 200
    assert "trace" not in await proxy.event()
    assert dropped("key_unreadable") == before + 1
    # A key sealed for another org does not open for this one either.
    obs, _ = observability(MASTER, org_id="org-2")
    await proxy.publish(obs)
    assert (await proxy.post("/v1/chat/completions", chat("hello"))).status_code == 200
    assert "trace" not in await proxy.event()
    assert dropped("key_unreadable") == before + 2


async def test_a_stream_is_assembled_into_the_answer_a_whole_request_gets(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    prompt = say("Streams are assembled into one answer, word by word.")
    whole = await proxy.post("/v1/chat/completions", chat(prompt))
    await proxy.event()
    streamed = await proxy.post("/v1/chat/completions", chat(prompt, stream=True))
    assert streamed.status_code == 200
    trace = opened(await proxy.event(), keys)
    answer = whole.json()
    assert trace["response"]["object"] == "chat.completion"
    [choice] = trace["response"]["choices"]
    [expected] = answer["choices"]
    assert choice["message"]["role"] == expected["message"]["role"] == "assistant"
    assert choice["message"]["content"] == expected["message"]["content"]
    assert choice["finish_reason"] == expected["finish_reason"]
    counts = ("prompt_tokens", "completion_tokens", "total_tokens")
    assert {k: trace["response"]["usage"][k] for k in counts} == {
        k: answer["usage"][k] for k in counts
    }
    assert trace["request"]["stream"] is True
    assert trace["response"]["choices"][0]["message"]["content"] == streamed_text(streamed.text)


async def test_streamed_tool_calls_are_assembled_like_whole_ones(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    whole = await proxy.post("/v1/chat/completions", chat("weather in Paris?", tools=tools))
    await proxy.event()
    await proxy.post("/v1/chat/completions", chat("weather in Paris?", tools=tools, stream=True))
    trace = opened(await proxy.event(), keys)
    message = trace["response"]["choices"][0]["message"]
    expected = whole.json()["choices"][0]
    [call] = message["tool_calls"]
    [expected_call] = expected["message"]["tool_calls"]
    assert call["function"] == expected_call["function"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert trace["response"]["choices"][0]["finish_reason"] == expected["finish_reason"]


async def test_an_anthropic_stream_is_assembled_into_a_message(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    body = {
        "model": "chat",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": say("Bonjour from Anthropic form.")}],
    }
    whole = await proxy.post("/v1/messages", body)
    await proxy.event()
    await proxy.post("/v1/messages", {**body, "stream": True})
    trace = opened(await proxy.event(), keys)
    assert trace["response"]["type"] == "message"
    assert trace["response"]["content"] == whole.json()["content"]
    assert trace["response"]["stop_reason"] == whole.json()["stop_reason"]


async def test_masked_and_pseudonymized_values_never_reach_the_trace(proxy: Proxy) -> None:
    for action, replaced in (("mask", "[EMAIL]"), ("pseudonymize", "<EMAIL_")):
        obs, keys = observability(MASTER)
        await proxy.publish(obs, pii=pii_policy(action))
        body = {
            "model": "chat",
            "messages": [
                {"role": "user", "content": f"I am {EMAIL}."},
                {"role": "user", "content": say(f"Write to {EMAIL} or call {PHONE}.")},
            ],
        }
        response = await proxy.post("/v1/chat/completions", body)
        assert response.status_code == 200
        trace = opened(await proxy.event(), keys)
        kept = orjson.dumps(trace).decode()
        assert EMAIL not in kept and PHONE not in kept
        assert trace["request"]["messages"][0]["content"].startswith(f"I am {replaced}")
        assert trace["response"] == response.json()  # no restore: what the caller got
        assert replaced in trace["response"]["choices"][0]["message"]["content"]


def test_a_trace_that_json_cannot_write_is_dropped_and_counted() -> None:
    # A provider's stream passed through natively may hold nesting orjson reads
    # (1,024 levels) but cannot write (254): such a trace is dropped, never kept.
    sealer = TraceSealer(MASTER)
    obs, _ = observability(MASTER)
    ctx = RequestContext(request_id="r1", method="POST", path="/v1/messages")
    ctx.tenant = {**tenant(), "observability": obs}
    ctx.key = key_entry()
    ctx.attempts = [
        {"deployment_id": "d", "provider": "p", "model": "m", "outcome": "ok", "latency_ms": 1}
    ]
    sealer.begin(ctx)
    assert ctx.trace is not None
    ctx.trace.sent(b'{"model": "m"}')
    deep: Any = "x"
    for _ in range(300):
        deep = {"d": deep}
    ctx.trace.answer_value(deep)
    event: Any = {}
    before = dropped("unserializable")
    sealer.settle(ctx, event)
    assert "trace" not in event
    assert dropped("unserializable") == before + 1


async def test_restored_originals_never_reach_the_trace(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs, pii=pii_policy("pseudonymize", restore=True))
    # The prompt names the email; the provider sees its pseudonym and repeats
    # it; the caller gets the email back (restore), the trace keeps the pseudonym.
    response = await proxy.post(
        "/v1/chat/completions",
        {
            "model": "chat",
            "messages": [
                {"role": "user", "content": f"My email is {EMAIL}."},
                {"role": "assistant", "content": "Noted."},
                {"role": "user", "content": "Repeat it."},
            ],
        },
    )
    assert response.status_code == 200
    trace = opened(await proxy.event(), keys)
    kept = orjson.dumps(trace).decode()
    assert EMAIL not in kept
    sent_prompt = trace["request"]["messages"][0]["content"]
    assert sent_prompt.startswith("My email is <EMAIL_")
    token = sent_prompt.removeprefix("My email is ").removesuffix(".")
    # The caller's answer repeats the last message only; ask the mock to say the token.
    answer = await proxy.post(
        "/v1/chat/completions",
        {
            "model": "chat",
            "messages": [
                {"role": "user", "content": f"My email is {EMAIL}."},
                {"role": "user", "content": say(f"Your email is {token}, right?")},
            ],
        },
    )
    assert EMAIL in answer.json()["choices"][0]["message"]["content"]  # restored for the caller
    trace = opened(await proxy.event(), keys)
    assert trace["response"]["choices"][0]["message"]["content"] == f"Your email is {token}, right?"
    assert EMAIL not in orjson.dumps(trace).decode()


async def test_a_restored_stream_is_traced_as_the_provider_answered(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs, pii=pii_policy("pseudonymize", restore=True))
    first = await proxy.post("/v1/chat/completions", chat(f"I am {EMAIL}."))
    token = opened(await proxy.event(), keys)["request"]["messages"][0]["content"][5:-1]
    assert first.status_code == 200 and token.startswith("<EMAIL_")
    body = {
        "model": "chat",
        "stream": True,
        "messages": [
            {"role": "user", "content": f"I am {EMAIL}."},
            {"role": "user", "content": say(f"Hello {token}, and {PHONE} too. Bye now.")},
        ],
    }
    streamed = await proxy.post("/v1/chat/completions", body)
    assert EMAIL in streamed.text  # restored for the caller
    trace = opened(await proxy.event(), keys)
    content = trace["response"]["choices"][0]["message"]["content"]
    assert content.startswith(f"Hello {token}, and <PHONE_")
    assert content.endswith("too. Bye now.")
    assert EMAIL not in orjson.dumps(trace).decode() and PHONE not in content


async def test_a_half_over_the_cap_is_cut_and_the_trace_says_so(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    long_text = "word " * (PART_MAX_BYTES // 4)
    response = await proxy.post("/v1/chat/completions", chat(say("short answer"), user=long_text))
    assert response.status_code == 200
    trace = opened(await proxy.event(), keys)
    assert trace["truncated"] is True
    assert isinstance(trace["request"], str)  # the JSON text's first bytes, marked as cut
    assert trace["request"].startswith('{"')
    assert trace["request"].endswith("]")
    assert len(orjson.dumps(trace["request"])) <= PART_MAX_BYTES
    assert trace["response"] == response.json()  # the other half is whole


async def test_a_long_stream_is_cut_too(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    long_answer = "token " * (PART_MAX_BYTES // 5)
    streamed = await proxy.post("/v1/chat/completions", chat(say(long_answer), stream=True))
    assert streamed.status_code == 200
    trace = opened(await proxy.event(), keys)
    assert trace["truncated"] is True
    assert isinstance(trace["response"], str)
    assert len(orjson.dumps(trace["response"])) <= PART_MAX_BYTES


async def test_embeddings_keep_the_input_and_the_vectors_until_the_cap(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs)
    response = await proxy.post("/v1/embeddings", {"model": "chat", "input": ["one", "two"]})
    assert response.status_code == 200
    trace = opened(await proxy.event(), keys)
    assert trace["request"]["input"] == ["one", "two"]
    assert trace["response"] == response.json()


async def test_a_failed_request_keeps_the_request_and_the_error(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs, models=("gpt-mock-error-400",))
    response = await proxy.post("/v1/chat/completions", chat("this will fail"))
    assert response.status_code == 400
    trace = opened(await proxy.event(), keys)
    assert trace["request"]["messages"][0]["content"] == "this will fail"
    assert trace["response"]["error"]["status"] == 400
    assert "mock scenario error-400" in trace["response"]["error"]["message"]


async def test_failover_keeps_the_attempt_that_answered(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs, models=("gpt-mock-error-503", "gpt-mock"))
    response = await proxy.post("/v1/chat/completions", chat("hello"))
    assert response.status_code == 200
    trace = opened(await proxy.event(), keys)
    assert trace["request"]["model"] == "gpt-mock"
    assert trace["response"] == response.json()


async def test_a_request_refused_before_any_provider_keeps_no_trace(proxy: Proxy) -> None:
    obs, _ = observability(MASTER)
    await proxy.publish(obs, pii=pii_policy("block"))
    response = await proxy.post("/v1/chat/completions", chat(f"mail {EMAIL}"))
    assert response.status_code == 400
    event = await proxy.event()
    assert event["error_code"] == "pii_blocked"
    assert "trace" not in event


async def _disconnect_after_first_chunk(
    app: ProxyApp, api_key: str, body: dict[str, Any]
) -> list[bytes]:
    """Drive the ASGI app as a server would for a client that leaves after the first chunk."""
    sent: list[bytes] = []
    first_chunk_seen = asyncio.Event()
    request = orjson.dumps(body)
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request, "more_body": False}
        await first_chunk_seen.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            sent.append(message["body"])
            first_chunk_seen.set()

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [
            (b"authorization", f"Bearer {api_key}".encode()),
            (b"content-type", b"application/json"),
        ],
        "query_string": b"",
    }
    await app(scope, receive, send)
    return sent


async def test_a_client_that_leaves_mid_stream_leaves_what_it_was_sent(proxy: Proxy) -> None:
    obs, keys = observability(MASTER)
    await proxy.publish(obs, models=("gpt-mock-pause-200",))
    words = " ".join(f"w{i}" for i in range(50))
    sent = await _disconnect_after_first_chunk(
        proxy.app, proxy.api_key, chat(say(words), stream=True)
    )
    event = await proxy.event()
    assert event["client_disconnected"] is True
    trace = opened(event, keys)
    text = streamed_text(b"".join(sent).decode())
    content = trace["response"]["choices"][0]["message"]["content"] or ""
    assert content == text  # what reached the caller, no more
    assert len(content) < len(words)
