"""build_app() -> the mock provider's ASGI app: routes, auth, scenarios, the recorder.

    path                                                   dialect    key from
    POST /v1/chat/completions, /v1/embeddings               openai     authorization: Bearer
    GET  /v1/models                                         openai     (anthropic's list if
                                                                       anthropic-version is sent)
    POST /openai/deployments/{deployment}/chat/completions  azure      api-key (or Bearer)
    POST /openai/deployments/{deployment}/embeddings        azure        ?api-version= required
    POST /v1/messages, /v1/messages/count_tokens            anthropic  x-api-key (or Bearer)
                                                                       + anthropic-version
    POST /v1beta/models/{model}:generateContent             gemini     x-goog-api-key or ?key=
         …:streamGenerateContent[?alt=sse], …:embedContent, …:batchEmbedContents
         (the same under /v1/models/{model}:…)
    GET  /v1beta/models                                     gemini
    GET  /healthz, GET /_mock/requests, POST /_mock/reset   -          none

Environment: MOCK_PROVIDER_REQUIRED_KEY (unset: any non-empty key is accepted),
MOCK_PROVIDER_EMBEDDING_DIM (default 16), MOCK_PROVIDER_TIMEOUT_S (default 60).
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from urllib.parse import parse_qs

import orjson

from gateway.mock_provider import anthropic_wire, gemini_wire, openai_wire
from gateway.mock_provider.answers import compose
from gateway.mock_provider.recorder import RecordedRequest, Recorder
from gateway.mock_provider.scenarios import PLAIN, Scenario, ScenarioError, scenario_for
from gateway.mock_provider.transport import (
    DisconnectWatch,
    Receive,
    Scope,
    Send,
    send_reply,
    send_whole,
    silence_cut_stream_errors,
)
from gateway.mock_provider.wire import JSON_HEADERS, ProviderError, Reply, as_str, json_reply

MAX_BODY = 32 * 1024 * 1024
_ERROR_BODIES = {
    "openai": openai_wire.error_body,
    "azure": openai_wire.error_body,
    "anthropic": anthropic_wire.error_body,
    "gemini": gemini_wire.error_body,
}
_GEMINI_OPS = {
    "generateContent": "generate",
    "streamGenerateContent": "stream_generate",
    "embedContent": "embed",
    "batchEmbedContents": "batch_embed",
}


@dataclass(frozen=True, slots=True)
class MockSettings:
    required_key: str | None = None
    embedding_dim: int = 16
    timeout_s: float = 60.0

    @classmethod
    def from_env(cls) -> MockSettings:
        return cls(
            required_key=os.environ.get("MOCK_PROVIDER_REQUIRED_KEY") or None,
            embedding_dim=int(os.environ.get("MOCK_PROVIDER_EMBEDDING_DIM", "16")),
            timeout_s=float(os.environ.get("MOCK_PROVIDER_TIMEOUT_S", "60")),
        )


@dataclass(frozen=True, slots=True)
class Route:
    dialect: str  # "openai" | "azure" | "anthropic" | "gemini"
    op: str
    method: str
    path_model: str = ""  # Gemini's model or Azure's deployment, from the path


def route(path: str) -> Route | None:
    """Return the provider endpoint a path names, or None."""
    if path == "/v1/chat/completions":
        return Route("openai", "chat", "POST")
    if path == "/v1/embeddings":
        return Route("openai", "embeddings", "POST")
    if path == "/v1/models":
        return Route("openai", "models", "GET")
    if path == "/v1/messages":
        return Route("anthropic", "messages", "POST")
    if path == "/v1/messages/count_tokens":
        return Route("anthropic", "count_tokens", "POST")
    if path == "/v1beta/models":
        return Route("gemini", "models", "GET")
    if path.startswith("/openai/deployments/"):
        deployment, _, rest = path[len("/openai/deployments/") :].partition("/")
        op = {"chat/completions": "chat", "embeddings": "embeddings"}.get(rest)
        return Route("azure", op, "POST", deployment) if op and deployment else None
    for prefix in ("/v1beta/models/", "/v1/models/"):
        if path.startswith(prefix):
            model, _, method = path[len(prefix) :].partition(":")
            op = _GEMINI_OPS.get(method)
            return Route("gemini", op, "POST", model) if op and model else None
    return None


def _bearer(value: bytes | None) -> str | None:
    if value is None or not value.lower().startswith(b"bearer "):
        return None
    return value[7:].strip().decode("latin-1")


def _api_key(dialect: str, headers: dict[bytes, bytes], query: dict[str, list[str]]) -> str | None:
    """Return the key from wherever the dialect carries it."""
    if dialect == "openai":
        return _bearer(headers.get(b"authorization"))
    if dialect == "azure":
        key = headers.get(b"api-key")
        return key.decode("latin-1") if key is not None else _bearer(headers.get(b"authorization"))
    name = b"x-api-key" if dialect == "anthropic" else b"x-goog-api-key"
    key = headers.get(name)
    if key is not None:
        return key.decode("latin-1")
    if dialect == "anthropic":
        # The anthropic SDK (2.x) sends its api_key as a bearer token.
        return _bearer(headers.get(b"authorization"))
    return query.get("key", [None])[0]


class MockProvider:
    def __init__(self, settings: MockSettings) -> None:
        self.settings = settings
        self.recorder = Recorder()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        found = route(path)
        if found is not None:
            await self._provider(scope, receive, send, found)
        elif path == "/healthz":
            await send_whole(send, json_reply({"status": "ok"}))
        elif path == "/_mock/requests":
            await send_whole(send, Reply(200, JSON_HEADERS, orjson.dumps(self.recorder.snapshot())))
        elif path == "/_mock/reset" and scope["method"] == "POST":
            self.recorder.reset()
            await send_whole(send, json_reply({"status": "reset"}))
        else:
            body = openai_wire.error_body(404, f"Unknown path {path}")
            await send_whole(send, Reply(404, JSON_HEADERS, body))

    async def _provider(self, scope: Scope, receive: Receive, send: Send, found: Route) -> None:
        raw = await _read_body(receive)
        if raw is None:
            return  # the client left before sending its request
        headers: dict[bytes, bytes] = dict(scope["headers"])
        dialect = found.dialect
        if dialect == "openai" and found.op == "models" and b"anthropic-version" in headers:
            dialect = "anthropic"  # the same path lists models for both SDKs
        query = parse_qs(scope["query_string"].decode("latin-1")) if scope["query_string"] else {}
        body = _json_object(raw)
        model = found.path_model or as_str((body or {}).get("model"))
        scenario_error: ScenarioError | None = None
        try:
            scenario = scenario_for(headers.get(b"x-mock-scenario"), model)
        except ScenarioError as e:
            scenario, scenario_error = PLAIN, e
        api_key = _api_key(dialect, headers, query)
        self.recorder.record(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                query=scope["query_string"],
                model=model,
                scenario=scenario.label if scenario_error is None else "(invalid)",
                api_key=api_key,
                headers=scope["headers"],
                body=body,
            )
        )
        try:
            self._admit(scope, found, dialect, headers, query, api_key, body, scenario_error)
            held = scenario.slow_ms or scenario.timeout
            if held and not await self._wait(receive, scenario):
                return
            if scenario.error_status is not None:
                raise _scenario_error(scenario)
            reply = self._answer(found, dialect, body or {}, model, scenario, query)
        except ProviderError as error:
            body_bytes = _ERROR_BODIES[dialect](error.status, error.message)
            reply = Reply(error.status, [*JSON_HEADERS, *error.headers], body_bytes)
        await send_reply(send, receive, reply, scenario, self.recorder)

    def _admit(
        self,
        scope: Scope,
        found: Route,
        dialect: str,
        headers: dict[bytes, bytes],
        query: dict[str, list[str]],
        api_key: str | None,
        body: dict[str, object] | None,
        scenario_error: ScenarioError | None,
    ) -> None:
        """Refuse what a real provider would: bad key, wrong method, missing headers, bad JSON."""
        if scope["method"] != found.method:
            raise ProviderError(405, f"Method {scope['method']} not allowed")
        required = self.settings.required_key
        if not api_key or (
            required is not None and not hmac.compare_digest(api_key.encode(), required.encode())
        ):
            raise ProviderError(401, "Missing or invalid API key")
        if dialect == "anthropic" and b"anthropic-version" not in headers:
            raise ProviderError(400, "anthropic-version: header is required")
        if dialect == "azure" and "api-version" not in query:
            raise ProviderError(
                404, "Resource not found: the api-version query parameter is missing"
            )
        if scenario_error is not None:
            raise ProviderError(400, str(scenario_error))
        if found.method == "POST" and body is None:
            raise ProviderError(400, "The request body is not a JSON object")

    async def _wait(self, receive: Receive, scenario: Scenario) -> bool:
        """Hold the request for slow or timeout; return False if the client left meanwhile."""
        watch = DisconnectWatch(receive)
        try:
            seconds = self.settings.timeout_s if scenario.timeout else scenario.slow_ms / 1000
            if not await watch.sleep(seconds):
                self.recorder.disconnected()
                return False
        finally:
            watch.close()
        if scenario.timeout:
            raise ProviderError(504, "mock timeout elapsed", [(b"connection", b"close")])
        return True

    def _answer(
        self,
        found: Route,
        dialect: str,
        body: dict[str, object],
        model: str,
        scenario: Scenario,
        query: dict[str, list[str]],
    ) -> Reply:
        """Build the successful answer of the endpoint."""
        op = found.op
        dim = self.settings.embedding_dim
        if op == "models":
            return (
                anthropic_wire.models_reply()
                if dialect == "anthropic"
                else (
                    gemini_wire.models_reply()
                    if dialect == "gemini"
                    else openai_wire.models_reply()
                )
            )
        if op == "chat":
            prompt, stream, include_usage = openai_wire.read_chat(body, model)
            return openai_wire.chat_reply(prompt, compose(prompt, scenario), stream, include_usage)
        if op == "embeddings":
            return openai_wire.embeddings_reply(body, model, dim)
        if op == "messages":
            prompt, stream = anthropic_wire.read_messages(body)
            answer = compose(prompt, scenario)
            return anthropic_wire.messages_reply(prompt, answer, stream, scenario.odd_shape)
        if op == "count_tokens":
            return anthropic_wire.count_tokens_reply(body)
        if op in ("generate", "stream_generate"):
            prompt = gemini_wire.read_generate(body, model)
            stream, sse = op == "stream_generate", query.get("alt") == ["sse"]
            return gemini_wire.generate_reply(prompt, compose(prompt, scenario), stream, sse)
        if op == "embed":
            return gemini_wire.embed_reply(body, dim)
        return gemini_wire.batch_embed_reply(body, dim)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                silence_cut_stream_errors()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def _scenario_error(scenario: Scenario) -> ProviderError:
    status = scenario.error_status or 500
    headers = []
    if status in (429, 503, 529):
        headers.append((b"retry-after", str(scenario.retry_after_s).encode()))
    return ProviderError(status, f"mock scenario error-{status}", headers)


async def _read_body(receive: Receive) -> bytes | None:
    """Read the whole request body; None if the client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            # No real request is this big; answer it like any other non-JSON body.
            return b"\x00"
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _json_object(raw: bytes) -> dict[str, object] | None:
    """Parse a JSON object body; {} for an empty body, None when it is not a JSON object."""
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def build_app(settings: MockSettings | None = None) -> MockProvider:
    """Return the mock provider app (settings from the environment unless given)."""
    return MockProvider(settings or MockSettings.from_env())
