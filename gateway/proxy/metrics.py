"""The proxy's /metrics, in the Prometheus text format (prometheus-client).

Counters live in this module's registry. When one port is served by several
uvicorn workers, a scrape reaches whichever worker accepts it, so `make run`
sets PROMETHEUS_MULTIPROC_DIR: prometheus-client then keeps every process's
counters in files there and each scrape sums them all. Gauges of state
shared through Redis (routing's breakers and latencies) are collected from
the answering process, which holds the same merged view as every other.

The drain (observability.drain, in the Celery worker) counts here too: with
PROMETHEUS_MULTIPROC_DIR shared, as `make run` sets it for every process, the
proxy's scrape sums the worker's files with its own.

Labels never carry org ids, keys or values; tenant-named custom PII patterns
are counted as CUSTOM so a tenant cannot grow the series without bound.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.proxy.http import Send
from gateway.proxy.pii.detectors import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES

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


def render() -> bytes:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    for collector in _collectors.values():
        registry.register(collector)
    return generate_latest(registry)


async def send_metrics(send: Send) -> None:
    body = render()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", CONTENT_TYPE_LATEST.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
