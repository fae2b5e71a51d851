"""A TCP relay in front of the mock provider whose delay a test can change mid-run.

The mock's behaviour is fixed by the model name; a deployment that gets slow
and then recovers needs something that changes under the same deployment.
This sits at the network boundary (like a slow link or a loaded provider):
each response's first bytes wait `delay_s` before they are passed on. And it
can go quiet: after passing on the first read that matches `hold_after`, it
passes nothing more until `release()`, so a test can see what a client got
while the rest of an answer has not arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit


class Relay:
    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self.target_host = target.hostname or "127.0.0.1"
        self.target_port = target.port or 80
        self.delay_s = 0.0
        self.hold_after: re.Pattern[bytes] | None = None
        # Set once the relay holds (it has passed on the first match of hold_after).
        self.holding = threading.Event()
        self._released: asyncio.Event | None = None
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        """Pass on everything held and whatever comes after."""
        self._loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        if self._released is not None:
            self._released.set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._released = asyncio.Event()
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        asked = asyncio.Event()

        async def upstream() -> None:
            while data := await reader.read(65536):
                asked.set()  # a request went out: its answer's first bytes will wait
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def downstream() -> None:
            tail = b""  # the end of the last read: a match may straddle two reads
            while data := await up_reader.read(65536):
                if asked.is_set():
                    asked.clear()
                    if self.delay_s:
                        await asyncio.sleep(self.delay_s)
                pattern = self.hold_after
                hold = pattern is not None and not self.holding.is_set()
                hold = hold and pattern is not None and bool(pattern.search(tail + data))
                tail = data[-256:]
                if hold:
                    # Holding before these bytes go on: whoever receives them sees it set.
                    self.holding.set()
                writer.write(data)
                await writer.drain()
                if hold:
                    assert self._released is not None
                    await self._released.wait()
            writer.close()

        with contextlib.suppress(OSError):
            await asyncio.gather(upstream(), downstream())

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@contextlib.contextmanager
def relay_to(target_url: str) -> Iterator[Relay]:
    relay = Relay(target_url)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
