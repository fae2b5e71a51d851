"""Observability off: no payload is written anywhere. Canaries in each payload; search it all.

CONTRACT.md section 6 promises that with observability off prompts and
completions are processed in memory only. Each request below carries unique
canary tokens (tests/privacy/search.py) in a place a payload can be: system
and user prompts, tool definitions, tool-call arguments and tool results on
the way in, whole and streamed answers and tool calls on the way out (the
mock provider says what it is told), an Anthropic-form stream, embeddings
input, and requests that fail: the provider's 500s, bad JSON, bad fields, a
prompt the PII policy blocks, an unknown model, a client that leaves mid-stream.

The real processes run: a proxy (uvicorn, its logs captured, its own
temporary directory) and the mock provider; web is this test process (its
management API set the routes and the PII policy) and the usage stream is
drained into PostgreSQL by the drain the worker runs. Then everything the
system wrote is searched: every table's rows, pg_dump, the PostgreSQL data
directory's files after a CHECKPOINT (WAL and heap), every Redis key of every
database and type, the proxy's output, this process's log records, every
file under the state directory (.selixes/) and the proxy's temp directory.

The same harness with observability on keeps traces: still no canary in
clear (a trace opened with its data key holds them, so they did cross), and
deliberate controls, written the way the system writes metadata (the org's
name, a request path in the access log and the request log, a Redis value, a
temp file), are found by each search: it cannot pass by searching nothing.
"""

from __future__ import annotations

import base64
import logging
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from gateway.shared.crypto import MasterKeys, data_key_context
from gateway.shared.snapshot import CHANNEL, snapshot_key
from gateway.shared.traces import new_data_key, open_trace, trace_context
from gateway.shared.usage_event import STREAM
from infra import embedded
from infra.run import uvicorn_command
from observability.drain import drain_usage_stream
from observability.models import RequestLog
from tests.conftest import Persona, api_client_for
from tests.gateway.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture
from tests.gateway.proxy.conftest import MOCK_PRICE, proxy_env
from tests.polling import eventually
from tests.privacy import search
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(900), pytest.mark.django_db(transaction=True)]


def say(text: str) -> str:
    return "say:" + base64.b64encode(text.encode()).decode()


@dataclass
class Harness:
    proxy_url: str
    api_key: str
    blocking_key: str  # a key of the project whose PII policy blocks emails
    org_id: str
    logs: Path
    tmp: Path
    process: subprocess.Popen[bytes]
    canaries: set[str] = field(default_factory=set)
    requests: int = 0

    def new(self) -> str:
        token = search.canary()
        self.canaries.add(token)
        return token

    def post(
        self, path: str, body: Any, key: str | None = None, raw: bytes | None = None
    ) -> httpx.Response:
        self.requests += 1
        headers = {"authorization": f"Bearer {key or self.api_key}"}
        content = raw if raw is not None else orjson.dumps(body)
        headers["content-type"] = "application/json"
        return httpx.post(f"{self.proxy_url}{path}", content=content, headers=headers, timeout=60)


def _setup_org(api: APIClient, mock: str) -> tuple[str, str]:
    """Routes to the mock (one always fails), a key, and a project whose policy blocks emails."""
    created = api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai_compatible", "api_key": "pk-mock-provider-key-123"},
        format="json",
    )
    assert created.status_code == 201, created.content
    provider_key_id = created.json()["id"]
    models = (("chat", "gpt-mock"), ("failing", "gpt-mock-error-500"), ("slow", "mock-pause-2000"))
    for alias, model in models:
        deployment = {
            "provider": "openai_compatible",
            "model": model,
            "api_base": f"{mock}/v1",
            "provider_key_id": provider_key_id,
            "price": MOCK_PRICE,
        }
        response = api.put(
            f"/api/v1/routes/{alias}/",
            {"strategy": "priority", "deployments": [deployment]},
            format="json",
        )
        assert response.status_code in (200, 201), response.content
    projects = api.get("/api/v1/projects/").json()
    project_id = (projects["data"] if isinstance(projects, dict) else projects)[0]["id"]
    key = api.post("/api/v1/keys/", {"project_id": project_id, "name": "app"}, format="json")
    assert key.status_code == 201, key.content
    blocked = api.post("/api/v1/projects/", {"name": "Blocked"}, format="json")
    assert blocked.status_code == 201, blocked.content
    blocked_id = blocked.json()["id"]
    policy = {
        "enabled": True,
        "entities": {"EMAIL": "block", "PHONE": "mask"},
        "custom_patterns": [],
        "restore_in_response": False,
    }
    response = api.put(f"/api/v1/projects/{blocked_id}/pii-policy/", policy, format="json")
    assert response.status_code in (200, 201), response.content
    blocking = api.post("/api/v1/keys/", {"project_id": blocked_id, "name": "pii"}, format="json")
    assert blocking.status_code == 201, blocking.content
    return key.json()["key"], blocking.json()["key"]


@pytest.fixture
def harness(
    alice: Persona,
    mock_url: str,  # noqa: F811  # the fixture imported above
    tmp_path: Path,
    settings: Any,
) -> Iterator[Harness]:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"
    api = api_client_for(alice)
    api_key, blocking_key = _setup_org(api, mock_url)
    logs, tmp = tmp_path / "logs", tmp_path / "tmp"
    logs.mkdir()
    tmp.mkdir()
    (tmp / "prometheus").mkdir()
    port = free_port()
    # make run's command line, with uvicorn's access log on: more is written, all searched.
    command = [
        part for part in uvicorn_command("gateway.proxy.asgi:app", port, "2")
        if part != "--no-access-log"
    ]  # fmt: skip
    command[command.index("warning")] = "info"
    env = proxy_env(
        TMPDIR=str(tmp),
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "prometheus"),
        SELIXES_METRICS_PORT=str(free_port()),
    )
    with (logs / "proxy.out").open("wb") as out, (logs / "proxy.err").open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        url = f"http://127.0.0.1:{port}"
        harness = Harness(url, api_key, blocking_key, str(alice.org.id), logs, tmp, process)

        def answers() -> bool:
            assert process.poll() is None, "the proxy exited during start-up"
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            eventually(answers, 60, "the proxy answering")
            yield harness
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _traffic(h: Harness) -> None:
    """Every kind of payload, each with canaries of its own."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": f"Look it up {h.new()}",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    for stream in (False, True):
        chat = {
            "model": "chat",
            "stream": stream,
            "messages": [
                {"role": "system", "content": f"system {h.new()}"},
                {"role": "user", "content": f"note {h.new()}"},
                {"role": "user", "content": say(f"answer {h.new()} and more words after it")},
            ],
        }
        response = h.post("/v1/chat/completions", chat)
        assert response.status_code == 200, response.text
        with_tools = {
            "model": "chat",
            "stream": stream,
            "tools": tools,
            "messages": [
                {"role": "user", "content": f"where {h.new()}"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "lookup",
                                "arguments": orjson.dumps({"city": h.new()}).decode(),
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": f"sunny {h.new()}"},
                {"role": "user", "content": say(orjson.dumps({"city": h.new()}).decode())},
            ],
        }
        response = h.post("/v1/chat/completions", with_tools)
        assert response.status_code == 200, response.text
        anthropic = {
            "model": "chat",
            "max_tokens": 200,
            "stream": stream,
            "system": f"be brief {h.new()}",
            "messages": [{"role": "user", "content": say(f"bonjour {h.new()} tout le monde")}],
        }
        response = h.post("/v1/messages", anthropic)
        assert response.status_code == 200, response.text
    said = f"ends {h.new()}"
    answered = h.post("/v1/chat/completions", {"model": "chat", "messages": [
        {"role": "user", "content": say(said)}]})  # fmt: skip
    assert said in answered.text  # the mock does say what it is told
    embeddings = h.post("/v1/embeddings", {"model": "chat", "input": [h.new(), h.new()]})
    assert embeddings.status_code == 200, embeddings.text
    # Requests that fail.
    failing = {"model": "failing", "messages": [{"role": "user", "content": f"fail {h.new()}"}]}
    assert h.post("/v1/chat/completions", failing).status_code == 502
    bad_json = b'{"model": "chat", "messages": [{"role": "user", "content": "' + h.new().encode()
    assert h.post("/v1/chat/completions", None, raw=bad_json).status_code == 400
    bad_field = {"model": "chat", "messages": f"not a list {h.new()}"}
    assert h.post("/v1/chat/completions", bad_field).status_code == 400
    unknown = {"model": "no-such-model", "messages": [{"role": "user", "content": h.new()}]}
    assert h.post("/v1/chat/completions", unknown).status_code == 404
    blocked = {
        "model": "chat",
        "messages": [{"role": "user", "content": f"{h.new()} mail {h.new()}@example.com"}],
    }
    refused = h.post("/v1/chat/completions", blocked, key=h.blocking_key)
    assert refused.status_code == 400 and refused.json()["error"]["type"] == "pii_blocked"
    # A client that leaves mid-stream.
    words = " ".join(h.new() for _ in range(30))
    leaving = {
        "model": "chat",
        "stream": True,
        "messages": [{"role": "user", "content": say(words)}],
    }
    h.requests += 1
    headers = {"authorization": f"Bearer {h.api_key}"}
    with httpx.stream(
        "POST", f"{h.proxy_url}/v1/chat/completions", json=leaving, headers=headers, timeout=60
    ) as response:
        next(response.iter_raw())


def _drained(h: Harness, client: Any) -> list[dict[str, Any]]:
    """Wait for every request's usage event, read them, and drain them into PostgreSQL."""
    eventually(
        lambda: client.xlen(STREAM) >= h.requests, 60, f"{h.requests} usage events on the stream"
    )
    entries = client.xrange(STREAM)
    # As they sit in Redis: metadata, and with observability on ciphertext; never a payload.
    on_the_stream = search.found_in(b"\n".join(fields[b"e"] for _, fields in entries))
    assert not on_the_stream & h.canaries
    events = [orjson.loads(fields[b"e"]) for _, fields in entries]
    while drain_usage_stream(client):
        pass
    assert RequestLog.objects.filter(org_id=uuid.UUID(h.org_id)).count() >= h.requests
    return events


@dataclass
class Found:
    where: dict[str, set[str]]
    searched: dict[str, int]


def _search_everything(h: Harness, caplog: pytest.LogCaptureFixture) -> Found:
    where: dict[str, set[str]] = {}
    searched: dict[str, int] = {}
    rows = search.postgres_rows()
    searched["postgres tables"] = int(rows.pop("").pop())
    where.update({f"postgres row of {table}": hits for table, hits in rows.items()})
    dump = search.pg_dump()
    searched["pg_dump bytes"] = len(dump)
    if hits := search.found_in(dump):
        where["pg_dump"] = hits
    dumped, keys = search.redis_everything(settings.REDIS_URL)
    searched["redis keys"] = keys
    if hits := search.found_in(dumped):
        where["redis"] = hits
    if hits := search.found_in(caplog.text.encode()):
        where["this process's log records"] = hits
    search.checkpoint()
    roots = [embedded.STATE_DIR, h.logs, h.tmp]
    if (database_files := search.data_directory()) is not None:
        roots.append(database_files)  # a system PostgreSQL's, outside .selixes/
    files, count = search.files_under(*roots)
    searched["files"] = count
    where.update({f"file {path}": hits for path, hits in files.items()})
    return Found(where, searched)


def test_with_observability_off_no_payload_is_written_anywhere(
    harness: Harness, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _traffic(harness)
    events = _drained(harness, redis_client)
    assert not any("trace" in event for event in events)
    found = _search_everything(harness, caplog)
    assert found.searched["postgres tables"] > 10 and found.searched["redis keys"] > 0
    assert found.searched["files"] > 100  # the PostgreSQL data directory among them
    leaked = {where: hits & harness.canaries for where, hits in found.where.items()}
    assert not {where: hits for where, hits in leaked.items() if hits}


def _turn_observability_on(org_id: str, client: Any) -> dict[str, bytes]:
    """Publish the org's snapshot with observability on and its data keys, as web will."""
    master = MasterKeys.parse(settings.SELIXES_MASTER_KEYS)
    now = time.time()
    days = {time.strftime("%Y-%m-%d", time.gmtime(now + shift)) for shift in (-3600, 0, 3600)}
    keys = {day: new_data_key() for day in days}
    raw = client.hget(snapshot_key(org_id), "body")
    assert raw is not None
    snapshot = orjson.loads(raw)
    snapshot["observability"] = {
        "enabled": True,
        "projects": {},
        "data_keys": {
            day: master.seal(key, data_key_context(org_id, day)) for day, key in keys.items()
        },
    }
    snapshot["version"] += 1
    client.hset(
        snapshot_key(org_id),
        mapping={"version": snapshot["version"], "body": orjson.dumps(snapshot)},
    )
    client.publish(CHANNEL, f"{org_id}:{snapshot['version']}")
    return keys


def _wait_until_traced(h: Harness, client: Any) -> None:
    """The proxy follows within its snapshot max age (1 s): wait until a request is traced."""
    probe = {"model": "chat", "messages": [{"role": "user", "content": "probe"}]}

    def traced() -> bool:
        h.post("/v1/chat/completions", probe)
        eventually(lambda: client.xlen(STREAM) >= 1, 30, "the probe's usage event")
        entries = client.xrange(STREAM)
        client.delete(STREAM)
        h.requests = 0
        return any(b'"trace"' in fields[b"e"] for _, fields in entries)

    eventually(traced, 30, "the proxy keeping traces")


def test_with_observability_on_payloads_are_only_ciphertext_and_the_search_finds_controls(
    harness: Harness,
    alice: Persona,
    redis_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    controls = {name: search.canary() for name in ("org", "path", "redis", "tmp")}
    alice.org.name = f"Acme {controls['org']}"
    alice.org.save()
    keys = _turn_observability_on(harness.org_id, redis_client)
    _wait_until_traced(harness, redis_client)
    _traffic(harness)
    # Metadata the system writes as it always does: an unknown path is logged.
    assert harness.post(f"/v1/{controls['path']}", {}).status_code == 404
    redis_client.set("control", controls["redis"])
    (harness.tmp / "control").write_text(controls["tmp"])
    events = _drained(harness, redis_client)

    traced_events = [event for event in events if "trace" in event]
    assert len(traced_events) >= 10
    opened = bytearray()
    for event in traced_events:
        day = event["trace"]["day"]
        context = trace_context(harness.org_id, day, event["request_id"])
        opened += open_trace(keys[day], event["trace"]["sealed"], context)
    crossed = search.found_in(bytes(opened))
    assert len(crossed & harness.canaries) >= 10  # the payloads are in the traces, sealed

    found = _search_everything(harness, caplog)
    leaked = {where: hits & harness.canaries for where, hits in found.where.items()}
    assert not {where: hits for where, hits in leaked.items() if hits}
    seen = {where for where, hits in found.where.items() if controls["org"] in hits}
    assert "postgres row of public.tenants_organization" in seen
    assert "pg_dump" in seen
    database_files = search.data_directory() or embedded.STATE_DIR
    assert any(where.startswith(f"file {database_files}") for where in seen)  # heap files
    assert controls["path"] in found.where.get(
        "postgres row of public.observability_requestlog", set()
    )
    assert any(
        controls["path"] in hits
        for where, hits in found.where.items()
        if where.startswith(f"file {harness.logs}")
    )
    assert controls["redis"] in found.where["redis"]
    assert controls["tmp"] in found.where[f"file {harness.tmp / 'control'}"]


def test_a_proxy_killed_mid_stream_writes_no_event_and_no_trace(
    harness: Harness, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _turn_observability_on(harness.org_id, redis_client)
    _wait_until_traced(harness, redis_client)
    words = " ".join(harness.new() for _ in range(20))
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": say(words)}]}
    server = psutil.Process(harness.process.pid)
    doomed = [server, *server.children(recursive=True)]
    with httpx.stream(
        "POST",
        f"{harness.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {harness.api_key}"},
        json=body,
        timeout=60,
    ) as response:
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        chunks = response.iter_raw()  # kept: a dropped iterator would close the stream
        received = b""
        while not search.found_in(received) & harness.canaries:
            received += next(chunks)  # mid-stream: a word of the answer has gone out
        for process in doomed:  # no shutdown, no flush: as a crash or the OOM killer
            process.send_signal(signal.SIGKILL)
        for process in doomed:
            process.wait(timeout=30)
    # The proxies are gone: whatever they wrote is written. No event names the
    # request, so no trace of it exists, sealed or not, and nothing of it is in clear.
    entries = redis_client.xrange(STREAM)
    assert not any(request_id.encode() in fields[b"e"] for _, fields in entries)
    while drain_usage_stream(redis_client):
        pass
    assert not RequestLog.objects.filter(request_id=request_id).exists()
    found = _search_everything(harness, caplog)
    leaked = {where: hits & harness.canaries for where, hits in found.where.items()}
    assert not {where: hits for where, hits in leaked.items() if hits}
