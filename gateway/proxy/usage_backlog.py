"""The usage stream's backlog as gauges, read from Redis when the metrics port is scraped.

    selixes_usage_stream_length   XLEN sel:usage: events the drain has not deleted yet
    selixes_usage_stream_pending  entries the drain's consumer group read but has not
                                  acknowledged (a worker mid-batch, or one that died)

A growing length means the drain falls behind (or stopped); it is the
number to alert on. The scrape runs in the metrics server's thread; the
reads run on the proxy's event loop with its own client (cluster, TLS and
all), and a scrape waits for them at most READ_TIMEOUT_S: a Redis that does
not answer shows as the gauges' absence, never as a hung scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.proxy.redis_client import AsyncRedisClient, send_batch
from gateway.shared.safe_errors import describe
from gateway.shared.usage_event import STREAM

# observability.drain.GROUP (the proxy imports nothing of Django's; a test keeps them equal).
DRAIN_GROUP = "request-log"
READ_TIMEOUT_S = 1.0
log = logging.getLogger(__name__)


class UsageBacklog(Collector):
    def __init__(self, client: AsyncRedisClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    async def _read(self) -> tuple[int, int | None]:
        length, pending = await send_batch(
            self.client, [("XLEN", STREAM), ("XPENDING", STREAM, DRAIN_GROUP)]
        )
        if isinstance(length, Exception):
            raise length
        # No group yet (no drain has run): nothing is pending.
        count = pending[0] if isinstance(pending, list) and pending else None
        return int(length), int(count) if count is not None else 0

    def collect(self) -> Iterator[Metric]:
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop or self.loop.is_closed():
            # Waiting on the running loop would block the very loop that must answer;
            # a closed one (its app shut down) has no one to answer at all.
            return
        read = self._read()
        try:
            future = asyncio.run_coroutine_threadsafe(read, self.loop)
        except RuntimeError:  # the loop closed in between
            read.close()
            return
        try:
            length, pending = future.result(READ_TIMEOUT_S)
        except Exception as e:  # the scrape goes on without these gauges
            future.cancel()
            log.warning("usage stream backlog unreadable: %s", describe(e))
            return
        yield GaugeMetricFamily(
            "selixes_usage_stream_length", "Usage events waiting on the stream.", value=length
        )
        yield GaugeMetricFamily(
            "selixes_usage_stream_pending",
            "Usage events the drain read but has not acknowledged.",
            value=pending,
        )
