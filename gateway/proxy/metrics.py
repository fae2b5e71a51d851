"""The proxy's /metrics: counters in the Prometheus text format, per process.

A handful of counters do not justify a dependency; the exposition format is
three lines per series. Each proxy process counts its own (like
prometheus-client without its multiprocess mode): scrape every process, or
sum per instance. Labels never carry org ids, keys or values; tenant-named
custom PII patterns are counted as CUSTOM so a tenant cannot grow the
series without bound.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.proxy.http import Send
from gateway.proxy.pii.detectors import ENTITY_TYPES
from gateway.proxy.pii.ner import NER_ENTITIES

_KNOWN_ENTITIES = ENTITY_TYPES | NER_ENTITIES
_HELP = {
    "selixes_pii_redactions_total": "Entities the PII policy masked, pseudonymized or blocked.",
    "selixes_pii_failures_total": "Requests failed closed because PII scanning could not run.",
}
_counters: dict[str, dict[tuple[tuple[str, str], ...], int]] = {name: {} for name in _HELP}
# Other modules' series (gauges of state they own), rendered as exposition lines; by name,
# so a collector registered again replaces itself.
_collectors: dict[str, Callable[[], list[str]]] = {}


def register_collector(name: str, collect: Callable[[], list[str]]) -> None:
    _collectors[name] = collect


def increment(name: str, labels: tuple[tuple[str, str], ...], by: int = 1) -> None:
    series = _counters[name]
    series[labels] = series.get(labels, 0) + by


def count_redaction(entity: str, action: str, where: str, count: int) -> None:
    label = entity if entity in _KNOWN_ENTITIES else "CUSTOM"
    increment(
        "selixes_pii_redactions_total",
        (("entity", label), ("action", action), ("where", where)),
        count,
    )


def count_failure(code: str) -> None:
    increment("selixes_pii_failures_total", (("code", code),))


def render() -> bytes:
    lines: list[str] = []
    for name, help_text in _HELP.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} counter")
        for labels, value in sorted(_counters[name].items()):
            rendered = ",".join(f'{key}="{val}"' for key, val in labels)
            lines.append(f"{name}{{{rendered}}} {value}")
    for collect in _collectors.values():
        lines.extend(collect())
    return ("\n".join(lines) + "\n").encode()


async def send_metrics(send: Send) -> None:
    body = render()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
