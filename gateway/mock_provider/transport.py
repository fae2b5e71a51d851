"""Send a Reply over ASGI the way the scenario says: whole, streamed, paused, cut or broken.

uvicorn's `send` returns silently once the client has gone, so a stream
cannot learn of a disconnect by sending: DisconnectWatch listens on `receive`
for `http.disconnect`, and the stream stops at its next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gateway.mock_provider.recorder import Recorder
from gateway.mock_provider.scenarios import Scenario
from gateway.mock_provider.wire import Headers, Reply

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# cut-stream ends the app before the response is complete, on purpose: uvicorn
# then drops the connection, which is the point, and logs an error we silence.
_CUT_MESSAGE = "ASGI callable returned without completing response."


class _DropCutStreamNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _CUT_MESSAGE


def silence_cut_stream_errors() -> None:
    """Keep uvicorn from logging the connections cut-stream drops on purpose."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropCutStreamNoise) for f in logger.filters):
        logger.addFilter(_DropCutStreamNoise())


class DisconnectWatch:
    """Listen for the client leaving while the mock waits or streams."""

    def __init__(self, receive: Receive) -> None:
        self.left = asyncio.Event()
        self._task = asyncio.create_task(self._listen(receive))

    async def _listen(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.left.set()

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; return False as soon as the client leaves."""
        if self.left.is_set():
            return False
        if seconds <= 0:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.left.wait(), seconds)
            return False
        return True

    def close(self) -> None:
        self._task.cancel()


def _start(reply: Reply, length: int | None, extra: Headers) -> Message:
    headers = [*reply.headers, *extra]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": reply.status, "headers": headers}


async def send_whole(send: Send, reply: Reply, extra: Headers | None = None) -> None:
    await send(_start(reply, len(reply.body), extra or []))
    await send({"type": "http.response.body", "body": reply.body})


async def send_reply(
    send: Send, receive: Receive, reply: Reply, scenario: Scenario, recorder: Recorder
) -> None:
    """Send a provider's answer, applying cut-stream, malformed-chunk and pause."""
    if reply.events is None:
        if reply.status != 200 or not (scenario.cut_stream or scenario.malformed_chunk):
            await send_whole(send, reply)
        elif scenario.malformed_chunk:
            await send_whole(send, Reply(200, reply.headers, reply.body[: len(reply.body) // 2]))
        else:
            # Promise the whole body, deliver half, and leave: a truncated answer.
            await send(_start(reply, len(reply.body), []))
            half = reply.body[: len(reply.body) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
        return
    watch = DisconnectWatch(receive)
    try:
        await _stream(send, watch, reply, reply.events, scenario, recorder)
    finally:
        watch.close()


async def _stream(
    send: Send,
    watch: DisconnectWatch,
    reply: Reply,
    events: list[bytes],
    scenario: Scenario,
    recorder: Recorder,
) -> None:
    if scenario.malformed_chunk:
        at = min(reply.first_content + 1, len(events))
        events = [*events[:at], reply.malformed, *events[at:]]
    end = len(events)
    if scenario.cut_stream:
        end = max(1, min(reply.first_content + 2, len(events) - 1))
    await send(_start(reply, None, []))
    pause_s = scenario.pause_ms / 1000
    for index in range(end):
        if not await watch.sleep(pause_s if index else 0):
            recorder.disconnected()
            return
        await send({"type": "http.response.body", "body": events[index], "more_body": True})
    if scenario.cut_stream:
        return  # without the final empty body: uvicorn drops the connection
    if watch.left.is_set():
        recorder.disconnected()
        return
    await send({"type": "http.response.body", "body": b"", "more_body": False})
