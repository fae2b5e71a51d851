"""Redact stage: the tenant's PII policy on the prompt, and on the answer on its way out.

Request half: every text the provider would see is scanned in the client's
own form (gateway.proxy.pii.content) before the upstream stage translates it
or passes it through natively; a blocked type is a 400 `pii_blocked`, a
detector that cannot run a 5xx, and in both cases nothing is forwarded.

Response half (a wrapped `send`): a non-streamed chat answer is held until
its body is complete, redacted (text, tool calls; logprobs dropped) and sent
with a corrected content-length; a stream is rewritten event by event
through carry-over windows (gateway.proxy.pii.stream). The
`x-selixes-redactions` header lists prompt and answer redactions of a
non-streamed answer; a stream's headers leave before its answer exists, so
there it lists the prompt's (the request log has both).

With observability on (gateway.proxy.trace), the trace's answer is taken
here: as sent to the caller, or, when restore_in_response puts originals
back, from a twin redactor that redacts the same way and restores nothing.

It sits inside the route stage, which parses the body, and outside
admission, so a blocked request is never admitted, limited or charged, and
the token bound is computed on the text that is actually sent. Without a
policy the cost is one dict lookup.
"""

from __future__ import annotations

import asyncio

import orjson

from gateway.proxy import metrics
from gateway.proxy.context import RequestContext
from gateway.proxy.errors import PiiBlocked, PiiScanFailed, ProxyError
from gateway.proxy.formats.anthropic_messages import encode_event, error_body
from gateway.proxy.formats.openai_sse import encode_error
from gateway.proxy.http import ASGIApp, Message, Receive, Scope, Send
from gateway.proxy.pii.content import redact_answer, redact_request, scan_values
from gateway.proxy.pii.redactor import Redactor
from gateway.proxy.pii.stream import REWRITERS, StreamRewriter
from gateway.proxy.stages.deps import StageDeps

HEADER = b"x-selixes-redactions"
# Validators scan digit-heavy text at about a millisecond per KB: a body
# larger than this is scanned off the event loop, so one tenant's megabytes
# do not hold up every other request of the process (they once stalled it
# for seconds). Smaller ones stay on the loop, where a typical prompt takes
# less time than the hop to a thread would.
OFF_LOOP_BYTES = 64 * 1024


class RedactStage:
    def __init__(self, app: ASGIApp, deps: StageDeps) -> None:
        self.app = app
        self.policies = deps.policies
        self.traces = deps.traces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: RequestContext = scope["state"]["ctx"]
        assert ctx.tenant is not None
        # Observability: the trace is captured here, where the answer is
        # redacted and before anything is restored (gateway.proxy.trace).
        self.traces.begin(ctx)
        policy = self.policies.policy_for(ctx.tenant, ctx.key)
        if policy is None:
            if ctx.trace is not None:
                send = _TraceTap(ctx, send).send
            await self.app(scope, receive, send)
            return
        redactor = Redactor(policy)

        def scan(text: str) -> str:
            return redactor.redact(text, "prompt")

        try:
            policy.check()
            if policy.ner_types or ctx.body_bytes > OFF_LOOP_BYTES:
                # NER costs tens of ms per KB and its first use loads the model
                # (seconds): off the event loop, so other requests keep flowing.
                await asyncio.to_thread(
                    redact_request, ctx.payload, ctx.operation, ctx.dialect, scan
                )
            else:
                redact_request(ctx.payload, ctx.operation, ctx.dialect, scan)
            await self.app(scope, receive, _Answer(ctx, redactor, send).send)
        except ProxyError as e:
            if not isinstance(e, PiiBlocked) and e.code.startswith("pii_"):
                metrics.count_failure(e.code)
            raise
        finally:
            ctx.redactions = redactor.audit()
            if ctx.trace is not None and ctx.trace.error is not None:
                _redact_error(ctx, redactor)
            for entry in ctx.redactions:
                metrics.count_redaction(
                    entry["entity"], entry["action"], entry["where"], entry["count"]
                )


def _redact_error(ctx: RequestContext, redactor: Redactor) -> None:
    """Redact a provider's error kept for the trace like an answer; leave it out if that fails."""
    assert ctx.trace is not None
    twin = Redactor(redactor.policy)  # restores nothing; its counts are never audited

    def scan(text: str) -> str:
        return twin.redact(text, "answer")

    try:
        ctx.trace.error = scan_values(ctx.trace.error, scan)
    except ProxyError:
        ctx.trace.error = None


class _TraceTap:
    """Without a PII policy: the answer goes to the trace as it goes to the caller."""

    def __init__(self, ctx: RequestContext, send: Send) -> None:
        self.ctx = ctx
        self._send = send
        self._answering = False

    async def send(self, message: Message) -> None:
        trace = self.ctx.trace
        if trace is not None:
            if message["type"] == "http.response.start":
                self._answering = message["status"] == 200
                if self._answering and self.ctx.stream and self.ctx.operation == "chat":
                    trace.streaming(self.ctx.dialect)
            elif self._answering and message["type"] == "http.response.body":
                trace.answer_bytes(message.get("body", b""))
        await self._send(message)


class _Answer:
    """The response half: redact what goes back to the caller."""

    def __init__(self, ctx: RequestContext, redactor: Redactor, send: Send) -> None:
        self.ctx = ctx
        self.redactor = redactor
        self._send = send
        self._start: Message | None = None  # held until a non-streamed body is complete
        self._body: list[bytes] = []
        self._rewriter: StreamRewriter | None = None
        # Observability on: the answer as sent, or, when the caller gets
        # originals restored, as the twin redacts it without restoring.
        self._traced = False
        self._twin: Redactor | None = None
        self._twin_rewriter: StreamRewriter | None = None

    def _headers(self, message: Message, value: str) -> None:
        if value:
            message["headers"] = [*message.get("headers", []), (HEADER, value.encode())]

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body":
            if self._rewriter is not None:
                await self._stream_body(message)
            elif self._start is not None:
                await self._whole_body(message)
            else:
                if self._traced and self.ctx.trace is not None:  # embeddings: vectors, no text
                    self.ctx.trace.answer_bytes(message.get("body", b""))
                await self._send(message)
        else:
            await self._send(message)

    async def _on_start(self, message: Message) -> None:
        ctx = self.ctx
        trace = ctx.trace
        if trace is not None and message["status"] == 200:
            self._traced = True
            if self.redactor.vault:  # originals will be restored: the trace keeps the twin's
                self._twin = self.redactor.without_restore()
        if message["status"] == 200 and ctx.operation == "chat":
            if ctx.stream:
                self._rewriter = REWRITERS[ctx.dialect](self.redactor)
                if trace is not None:
                    trace.streaming(ctx.dialect)
                    if self._twin is not None:
                        self._twin_rewriter = REWRITERS[ctx.dialect](self._twin)
            else:
                self._start = message  # the header needs the answer's redactions too
                return
        self._headers(message, self.redactor.header("prompt"))
        await self._send(message)

    async def _whole_body(self, message: Message) -> None:
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        start, self._start = self._start, None
        assert start is not None
        body = b"".join(self._body)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise PiiScanFailed("The answer could not be read to scan it for PII.") from e
        redactor = self.redactor
        changed = False

        def scan(text: str) -> str:
            nonlocal changed
            redacted = redactor.redact(text, "answer")
            changed = changed or redacted != text
            return redacted

        # Whatever its shape (an object, or an array, string or number no API sends),
        # nothing of the answer goes back unscanned: redact_answer scans what it does
        # not understand whole.
        if redactor.policy.ner_types or len(body) > OFF_LOOP_BYTES:
            answer = await asyncio.to_thread(redact_answer, answer, self.ctx.dialect, scan)
        else:
            answer = redact_answer(answer, self.ctx.dialect, scan)
        raw = body
        if changed:  # else the provider's bytes go back as they came
            body = orjson.dumps(answer)
        trace = self.ctx.trace
        if self._traced and trace is not None:
            if self._twin is not None:
                # The same walk over the same answer, without restore; the
                # twin reads the findings the walk above made (memo).
                twin = self._twin
                trace.answer_value(
                    redact_answer(
                        orjson.loads(raw), self.ctx.dialect, lambda t: twin.redact(t, "answer")
                    )
                )
                twin.memo = self.redactor.memo = None
            else:
                trace.answer_bytes(body)
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        start["headers"] = headers
        self._headers(start, self.redactor.header())
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})

    async def _stream_body(self, message: Message) -> None:
        assert self._rewriter is not None
        data: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        rewriter = self._rewriter
        last = not more  # the upstream stage's last message is the cost comment

        twin = self._twin_rewriter
        trace = self.ctx.trace if self._traced else None

        def rewrite() -> bytes:
            # The last message carries the cost comment: the held text goes before it.
            out = rewriter.finish() + rewriter.feed(data) if last else rewriter.feed(data)
            if trace is not None:
                if twin is not None:
                    # The same bytes without restore, for the trace; the twin
                    # reads the findings just made (memo), then they go.
                    plain = twin.finish() + twin.feed(data) if last else twin.feed(data)
                    memo = self.redactor.memo
                    if memo is not None:
                        memo.clear()
                    trace.answer_bytes(plain)
                else:
                    trace.answer_bytes(out)
            return out

        try:
            if self.redactor.policy.ner_types:
                # NER takes milliseconds per released window: off the event
                # loop, as for prompts, so other requests keep flowing. One
                # window at a time: each send waits for the one before.
                out = await asyncio.to_thread(rewrite)
            else:
                out = rewrite()
        except ProxyError as e:
            # Mid-stream nothing unscanned may follow: an error event ends the stream.
            event = self._error_event(e)
            if trace is not None:
                trace.answer_bytes(event)
            await self._send({"type": "http.response.body", "body": event, "more_body": False})
            raise
        await self._send({"type": "http.response.body", "body": out, "more_body": more})

    def _error_event(self, error: ProxyError) -> bytes:
        if self.ctx.dialect == "anthropic":
            return encode_event("error", error_body(error.message))
        return encode_error(error.message, type=error.type, code=error.code)
