"""The proxy's metrics, in the Prometheus text format (prometheus-client), on their own port.

CONTRACT.md section 5: metrics are served on SELIXES_METRICS_PORT, never on
the tenant-facing port. Each proxy worker tries to bind that port; the first
one serves it and its siblings find it taken. So that one worker can speak
for all, `make run` sets PROMETHEUS_MULTIPROC_DIR: prometheus-client then
keeps every process's counters in files there and each scrape sums them all.
Gauges of state shared through Redis (routing's breakers and latencies) are
collected from the serving process, which holds the same merged view as
every other.

The drain (observability.drain, in the Celery worker) counts its dead
letters with a counter defined here; the worker serves them on its own
metrics port (observability/worker_metrics.py), as each kind of process has its
own PROMETHEUS_MULTIPROC_DIR in `make run`.

Labels never carry org ids, keys or values; tenant-named custom PII patterns
are counted as CUSTOM so a tenant cannot grow the series without bound.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.registry import Collector

from gateway.proxy.pii.detectors import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES
from gateway.shared import metrics_port

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

# The request path's metrics (gateway.proxy.request_metrics observes them once per
# request, in the record stage). The GenAI ones follow the OpenTelemetry semantic
# conventions for generative AI metrics, v1.41.0 (Development status): the server
# metrics gen_ai.server.request.duration and gen_ai.server.time_to_first_token, and,
# as the conventions define token usage for clients only, gen_ai.client.token.usage
# (the proxy is its tenants' client of the providers). Names as OpenTelemetry's
# Prometheus exporter writes them (dots to underscores, the unit "s" as _seconds);
# buckets are the conventions' advised boundaries. Label values are bounded:
# operation and token type are fixed sets, providers the catalogue's, models those
# the pricing table knows (else "other"), error types the proxy's own.
REQUESTS = Counter(
    "selixes_proxy_requests",
    "Requests answered, by HTTP status, provider, operation and route model.",
    ["status", "provider", "operation", "model"],
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "gen_ai_server_request_duration_seconds",
    "GenAI request duration, arrival to last byte (gen_ai.server.request.duration).",
    ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_response_model", "error_type"],
    buckets=(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96,
             81.92),
    registry=REGISTRY,
)  # fmt: skip
TIME_TO_FIRST_TOKEN = Histogram(
    "gen_ai_server_time_to_first_token_seconds",
    "Arrival to the first byte of a streamed answer (gen_ai.server.time_to_first_token).",
    ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_response_model"],
    buckets=(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
             7.5, 10.0),
    registry=REGISTRY,
)  # fmt: skip
TOKEN_USAGE = Histogram(
    "gen_ai_client_token_usage",
    "Tokens per answered request, by type (gen_ai.client.token.usage).",
    ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_response_model",
     "gen_ai_token_type"],
    buckets=(1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
             67108864),
    registry=REGISTRY,
)  # fmt: skip
# USD as a float: Prometheus has no other number. The ledger (integer nano-USD) is
# the account; this is a rate to watch, exact to well under a cent per day.
COST = Counter(
    "selixes_cost_usd",
    "Actual cost of answered requests in USD, by provider and route model.",
    ["provider", "model"],
    registry=REGISTRY,
)
REFUSALS = Counter(
    "selixes_refusals",
    "Requests refused by a budget, a rate limit or the plan.",
    ["reason"],  # budget_exceeded | rate_limit_exceeded | plan_limit_exceeded
    registry=REGISTRY,
)
UPSTREAM_ERRORS = Counter(
    "selixes_upstream_errors",
    "Failed attempts at a provider (failed over or not), by provider and outcome.",
    ["provider", "outcome"],  # outcome: http_<status> | upstream_timeout | stream_broken ...
    registry=REGISTRY,
)
REDIS_DURATION = Histogram(
    "selixes_redis_command_duration_seconds",
    "The proxy's Redis calls on the request path (admission, settlement and usage flush).",
    ["command"],  # the command's name, or "pipeline" for a batch
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
# Known label values start at 0, so a scrape (and a dashboard) shows them before the
# first event, and rate() sees the first one.
for _reason in ("no_data_key", "key_unreadable", "unserializable", "invalid", "too_large"):
    TRACES_DROPPED.labels(reason=_reason)
for _reason in ("malformed", "refused"):
    USAGE_DEAD_LETTERS.labels(reason=_reason)
for _reason in ("budget_exceeded", "rate_limit_exceeded", "plan_limit_exceeded"):
    REFUSALS.labels(reason=_reason)
# Other modules' collectors (gauges of state they own, read live at each scrape,
# never from the multiprocess files), by name, so one registered again replaces
# the one before.
_collectors: dict[str, Collector] = {}


def register_collector(name: str, collector: Collector) -> None:
    """Add a collector the serving process reads at each scrape (replacing one of that name)."""
    _collectors[name] = collector


def count_redaction(entity: str, action: str, where: str, count: int) -> None:
    label = entity if entity in _KNOWN_ENTITIES else "CUSTOM"
    PII_REDACTIONS.labels(entity=label, action=action, where=where).inc(count)


def count_failure(code: str) -> None:
    PII_FAILURES.labels(code=code).inc()


def scrape_registry(multiproc_dir: str = "") -> CollectorRegistry:
    """What the metrics port serves: every worker's files in `multiproc_dir`, or this process."""
    # The router's and the backlog's gauges are read live, in the serving process.
    return metrics_port.scrape_registry(multiproc_dir, local=[REGISTRY], live=_collectors.values())


# This process's counters and gauges alone (tests read it).
SCRAPE = scrape_registry()


def serve(host: str, port: int, multiproc_dir: str = "") -> WSGIServer | None:
    """Serve the scrape on host:port from a thread; None if another worker already does.

    Collectors read the event loop's state from that thread without a lock:
    prometheus-client's own metrics lock themselves, and the routing gauges
    copy the health book's entries in one C-level step (sorted()), which the
    GIL keeps whole, before reading plain numbers from them.
    """
    return metrics_port.serve(host, port, scrape_registry(multiproc_dir), "proxy")
