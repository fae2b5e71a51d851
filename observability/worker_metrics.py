"""The Celery worker's metrics: tasks by name and outcome, their duration, the drain's rows.

Celery's signals feed them in the pool's processes; the worker's main
process serves the scrape on SELIXES_WORKER_METRICS_PORT once it is ready
(gateway.shared.metrics_port), summing every pool process's files in
PROMETHEUS_MULTIPROC_DIR (its own directory in `make run`). Unset port: no
server. The drain's dead letters (observability.dead_letters) count in the
same files, so the worker's scrape shows them too.

Labels: the task's registered name (a fixed set: our tasks) and outcome.
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals
from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.shared import metrics_port

REGISTRY = CollectorRegistry(auto_describe=True)
TASKS = Counter(
    "selixes_worker_tasks",
    "Tasks the worker finished, by task and outcome (succeeded | failed | retried).",
    ["task", "outcome"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "selixes_worker_task_duration_seconds",
    "Time a task ran, by task.",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
DRAIN_ROWS = Counter(
    "selixes_drain_rows_written",
    "Usage events the drain wrote into the request log.",
    registry=REGISTRY,
)
# task id -> when it started, in this pool process; a task that never ends
# (its process killed) leaves one entry, bounded by the pool's restarts.
_started: dict[str, float] = {}


def _task_name(task: Any) -> str:
    return str(getattr(task, "name", None) or "unknown")


@signals.task_prerun.connect
def _on_start(task_id: str, task: Any, **_: Any) -> None:
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _on_end(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    name = _task_name(task)
    if started is not None:
        DURATION.labels(name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASKS.labels(name, "succeeded").inc()
    elif state == "RETRY":
        TASKS.labels(name, "retried").inc()
    else:
        TASKS.labels(name, "failed").inc()


@signals.worker_ready.connect
def _serve(**_: Any) -> None:
    """Serve the scrape from the worker's main process once its pool runs."""
    port = settings.WORKER_METRICS_PORT
    if not port:
        return
    registry = metrics_port.scrape_registry(settings.PROMETHEUS_MULTIPROC_DIR, local=[REGISTRY])
    # The server's thread is a daemon: it lives as long as the worker.
    metrics_port.serve(settings.WORKER_METRICS_HOST, port, registry, "worker")
