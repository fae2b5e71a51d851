"""The proxy's metrics, in the Prometheus text format (prometheus-client), on their own port.

CONTRACT.md section 5: metrics are served on SELIXES_METRICS_PORT, never on
the tenant-facing port. Each proxy worker tries to bind that port; the first
one serves it and its siblings find it taken. So that one worker can speak
for all, `make run` sets PROMETHEUS_MULTIPROC_DIR: prometheus-client then
keeps every process's counters in files there and each scrape sums them all.
Gauges of state shared through Redis (routing's breakers and latencies) are
collected from the serving process, which holds the same merged view as
every other.

The drain (observability.drain, in the Celery worker) counts here too: with
PROMETHEUS_MULTIPROC_DIR shared, as `make run` sets it for every process, the
proxy's scrape sums the worker's files with its own.

Labels never carry org ids, keys or values; tenant-named custom PII patterns
are counted as CUSTOM so a tenant cannot grow the series without bound.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.proxy.pii.detectors import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES

log = logging.getLogger(__name__)
_KNOWN_ENTITIES = ENTITY_TYPES | NER_ENTITIES
# A *_created series per counter doubles the output for nothing.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
PII_REDACTIONS = Counter(
    "selixes_pii_redactions",
    "Entities the PII policy masked, pseudonymized or blocked.",
    ["entity", "action", "where"],
    registry=REGISTRY,
)
PII_FAILURES = Counter(
    "selixes_pii_failures",
    "Requests failed closed because PII scanning could not run.",
    ["code"],
    registry=REGISTRY,
)
USAGE_DEAD_LETTERS = Counter(
    "selixes_usage_dead_letters",
    "Usage events the drain set aside on sel:usage:dead instead of writing them.",
    ["reason"],  # malformed | refused (the database would not take it)
    registry=REGISTRY,
)
USAGE_EVENTS_EXPIRED = Counter(
    "selixes_usage_events_expired",
    "Usage events older than the retention, not logged by the drain (their ledger entry is).",
    registry=REGISTRY,
)
TRACES_DROPPED = Counter(
    "selixes_traces_dropped",
    "Traces not kept although observability was on; never stored in clear instead.",
    # no_data_key | key_unreadable | unserializable (proxy); invalid | too_large (drain)
    ["reason"],
    registry=REGISTRY,
)
# Other modules' collectors (gauges of state they own), by name, so a
# collector registered again replaces the one before.
_collectors: dict[str, Collector] = {}


def register_collector(name: str, collector: Collector) -> None:
    previous = _collectors.pop(name, None)
    if previous is not None:
        REGISTRY.unregister(previous)
    _collectors[name] = collector
    REGISTRY.register(collector)


def count_redaction(entity: str, action: str, where: str, count: int) -> None:
    label = entity if entity in _KNOWN_ENTITIES else "CUSTOM"
    PII_REDACTIONS.labels(entity=label, action=action, where=where).inc(count)


def count_failure(code: str) -> None:
    PII_FAILURES.labels(code=code).inc()


class _Scrape(Collector):
    """What a scrape shows: every worker's counters (or this one's alone), and the gauges."""

    def __init__(self, multiproc_dir: str = "") -> None:
        self.multiproc_dir = multiproc_dir  # PROMETHEUS_MULTIPROC_DIR ("" = this process)

    def collect(self) -> Iterator[Metric]:
        directory = self.multiproc_dir
        if not directory:
            yield from REGISTRY.collect()
            return
        yield from MultiProcessCollector(None, path=directory).collect()  # type: ignore[no-untyped-call]
        # A copy: the event loop may register a collector while a scrape runs.
        for collector in list(_collectors.values()):
            yield from collector.collect()


def scrape_registry(multiproc_dir: str = "") -> CollectorRegistry:
    """What the metrics port serves: every worker's files in `multiproc_dir`, or this process."""
    # auto_describe off: registering must not collect (the router's gauges come later).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(multiproc_dir))
    return registry


# This process's counters and gauges alone (tests read it).
SCRAPE = scrape_registry()


def serve(host: str, port: int, multiproc_dir: str = "") -> WSGIServer | None:
    """Serve the scrape on host:port from a thread; None if another worker already does.

    A thread, not the event loop: summing many workers' files stays off the
    request path. Collectors read the event loop's state from it without a
    lock: prometheus-client's own metrics lock themselves, and the routing
    gauges copy the health book's entries in one C-level step (sorted()),
    which the GIL keeps whole, before reading plain numbers from them.
    """
    try:
        server, _thread = start_http_server(port, host, registry=scrape_registry(multiproc_dir))
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        # Expected in every worker but the first; also what another program
        # holding the port looks like, hence the log line.
        log.info("metrics port %s:%d is taken; this process does not serve it", host, port)
        return None
    return server
