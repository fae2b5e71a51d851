"""Web's and the worker's own metrics, as their metrics ports serve them (in-process here).

A scrape of the real ports, through a real `make run` stack, is in
tests/infra/test_make_run.py (the Grafana dashboard's check).
"""

from __future__ import annotations

import redis
from django.test import Client
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from observability import web_metrics, worker_metrics
from observability.tasks import drain_usage
from tests.conftest import Persona
from tests.factories.usage import push_usage, usage_event_of


def value(registry_text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(registry_text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def web_scrape() -> str:
    return generate_latest(web_metrics.REGISTRY).decode()


def worker_scrape() -> str:
    return generate_latest(worker_metrics.REGISTRY).decode()


def test_web_counts_requests_by_view_name_and_status_never_by_path(
    client: Client, db: None
) -> None:
    login = {"view": "dashboard:login", "method": "GET", "status": "200"}
    unknown = {"view": "unresolved", "method": "GET", "status": "404"}
    before = web_scrape()

    assert client.get("/login/").status_code == 200
    assert client.get("/no/such/page/4f1c9a/").status_code == 404

    after = web_scrape()
    assert value(after, "selixes_web_requests_total", **login) == (
        value(before, "selixes_web_requests_total", **login) + 1
    )
    assert value(after, "selixes_web_requests_total", **unknown) == (
        value(before, "selixes_web_requests_total", **unknown) + 1
    )
    assert value(after, "selixes_web_request_duration_seconds_count", view="dashboard:login") >= 1
    assert "4f1c9a" not in after


def test_the_worker_counts_its_tasks_and_the_rows_the_drain_wrote(
    alice: Persona, redis_client: redis.Redis, transactional_db: None
) -> None:
    task = {"task": "observability.tasks.drain_usage", "outcome": "succeeded"}
    before = worker_scrape()
    push_usage(redis_client, usage_event_of(alice))
    push_usage(redis_client, usage_event_of(alice))

    assert drain_usage.apply().get() == 2

    after = worker_scrape()
    assert value(after, "selixes_drain_rows_written_total") == (
        value(before, "selixes_drain_rows_written_total") + 2
    )
    assert value(after, "selixes_worker_tasks_total", **task) == (
        value(before, "selixes_worker_tasks_total", **task) + 1
    )
    assert value(after, "selixes_worker_task_duration_seconds_count", task=task["task"]) >= 1
