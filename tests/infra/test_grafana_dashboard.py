"""The Grafana dashboard's queries, read as PromQL (the real scrape check is in test_make_run)."""

from __future__ import annotations

import json

from tests.infra.grafana import DASHBOARD, dashboard_metric_names, expressions, metric_names


def test_every_panel_of_the_dashboard_has_a_query() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    assert all(p["targets"] and all(t["expr"] for t in p["targets"]) for p in panels)
    assert dashboard["uid"] == "selixes-gateway"


def test_metric_names_are_read_from_promql_without_functions_labels_or_keywords() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, view) (rate(web_seconds_bucket{status=~"5.."}'
        "[$__rate_interval]))) / ignoring (view) sum(rate(other_total[5m])) * 3600"
    )
    assert metric_names(expr) == {"web_seconds_bucket", "other_total"}
    assert metric_names("max(selixes_usage_stream_length)") == {"selixes_usage_stream_length"}


def test_the_dashboard_reads_every_kind_of_metric_the_issue_names() -> None:
    names = dashboard_metric_names()
    assert len(expressions(json.loads(DASHBOARD.read_text()))) >= 25
    assert {
        "selixes_proxy_requests_total",
        "gen_ai_server_request_duration_seconds_bucket",
        "gen_ai_server_time_to_first_token_seconds_bucket",
        "gen_ai_client_token_usage_sum",
        "selixes_cost_usd_total",
        "selixes_refusals_total",
        "selixes_upstream_errors_total",
        "selixes_breakers",
        "selixes_redis_command_duration_seconds_bucket",
        "selixes_traces_dropped_total",
        "selixes_usage_stream_length",
        "selixes_usage_stream_pending",
        "selixes_web_requests_total",
        "selixes_worker_tasks_total",
        "selixes_drain_rows_written_total",
    } <= names
