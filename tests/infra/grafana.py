"""The metric names a Grafana dashboard's PromQL queries read, and those a scrape shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[2] / "infra" / "grafana" / "selixes-gateway.json"
# PromQL words that look like names but are not metrics.
KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
     "bool", "offset", "inf", "nan"}
)  # fmt: skip
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every target's PromQL, from every panel (rows' nested panels too)."""
    found: list[str] = []
    stack = list(dashboard["panels"])
    while stack:
        panel = stack.pop()
        stack.extend(panel.get("panels", []))
        found.extend(target["expr"] for target in panel.get("targets", []))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (functions, labels and keywords left out)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # string literals (label values)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    names = set()
    for match in _IDENTIFIER.finditer(expr):
        rest = expr[match.end() :].lstrip()
        if rest.startswith("("):  # a function or aggregation
            continue
        if match.group() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def dashboard_metric_names(path: Path = DASHBOARD) -> set[str]:
    dashboard = json.loads(path.read_text())
    return set().union(*(metric_names(expr) for expr in expressions(dashboard)))


def sample_names(scrape: str) -> set[str]:
    """Every sample name in a Prometheus text scrape (counters' _total, histograms' _bucket...)."""
    return {
        sample.name
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
    }
