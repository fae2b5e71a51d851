"""Serve a Prometheus scrape on its own port, from whichever process of a group binds it first.

Proxy, web and worker each run several processes (uvicorn workers, gunicorn
workers, a Celery pool). Every process tries to bind the kind's metrics port;
the first serves it and its siblings find it taken. With
PROMETHEUS_MULTIPROC_DIR set (as `make run` sets it, one directory per kind)
prometheus-client keeps each process's values in files there, and the one
serving process sums them all at every scrape.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class _Scrape(Collector):
    """Every process's files in `multiproc_dir` (or `local`, this process's own), plus `live`."""

    def __init__(
        self, multiproc_dir: str, local: Iterable[Collector], live: Iterable[Collector]
    ) -> None:
        self.multiproc_dir = multiproc_dir
        self.local = local
        self.live = live

    def collect(self) -> Iterator[Metric]:
        if self.multiproc_dir:
            yield from MultiProcessCollector(None, path=self.multiproc_dir).collect()  # type: ignore[no-untyped-call]
        else:
            for collector in list(self.local):
                yield from collector.collect()
        # A copy: another thread may add a collector while a scrape runs.
        for collector in list(self.live):
            yield from collector.collect()


def scrape_registry(
    multiproc_dir: str, local: Iterable[Collector] = (), live: Iterable[Collector] = ()
) -> CollectorRegistry:
    """What a metrics port serves: the multiprocess files (else `local`), and the `live` gauges.

    `live` collectors read state at scrape time in the serving process (gauges
    that are not files); `local` is what stands in for the files when no
    directory is set (a single process, as in most tests).
    """
    # auto_describe off: registering must not collect (collectors may come later).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(multiproc_dir, local, live))
    return registry


def serve(host: str, port: int, registry: CollectorRegistry, kind: str) -> WSGIServer | None:
    """Serve `registry` on host:port from a thread; None if another process already does.

    A thread, not the event loop or a request worker: summing many processes'
    files stays off the request path.
    """
    try:
        server, _thread = start_http_server(port, host, registry=registry)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        # Expected in every process but the first; also what another program
        # holding the port looks like, hence the log line.
        log.info("%s metrics port %s:%d is taken; this process does not serve it", kind, host, port)
        return None
    return server
