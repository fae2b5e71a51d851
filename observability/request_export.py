"""Stream the filtered request log as CSV or JSON Lines, without holding it in memory.

Rows come from a server-side cursor (`QuerySet.iterator(chunk_size=…)` on
PostgreSQL, inside a transaction so the server streams too) as tuples, not
model instances, and each is written out before the next chunk is fetched,
so memory stays that of one chunk whatever the number of rows
(tests/observability/test_request_export.py measures it). There is no row
cap: retention bounds the log to SELIXES_RETENTION_DAYS, and the export
stops being read the moment the client goes away. The rows are the
same filter as the API page (observability.request_query) from the newest
down; a cursor in the query starts the export where that page ended.

Money is a decimal string, as in the API. CSV cells that a spreadsheet would
read as a formula (starting with = + - @, tab or carriage return) get a
leading apostrophe: model names and error codes come from tenants' traffic.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from observability.models import RequestLog
from tenants.models import ApiKey, Organization, Project

CHUNK_ROWS = 1000
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
# Read from the table, in this order; the export adds names after the ids.
FIELDS = (
    "request_id", "created_at", "project_id", "key_id", "user_id", "endpoint",
    "model_requested", "model_dispatched", "provider", "upstream_host", "deployment_id",
    "strategy", "routing_version", "task", "stream", "status", "error_type", "error_code",
    "error_provider", "input_tokens", "output_tokens", "cached_input_tokens",
    "reasoning_tokens", "latency_ms", "ttfb_ms", "cost_usd", "platform_fee_usd",
    "client_disconnected", "attempts", "redactions",
)  # fmt: skip
COLUMNS = (*FIELDS[:4], "project_name", "key_name", "key_prefix", *FIELDS[4:])
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Labels:
    """Names of an org's projects and keys, by id, loaded once per export or page."""

    def __init__(self, org: Organization, keys: set[uuid.UUID] | None = None) -> None:
        projects = Project.objects.filter(org=org)
        api_keys = ApiKey.objects.filter(org=org)
        if keys is not None:  # one page: only the keys it shows
            api_keys = api_keys.filter(id__in=keys)
        self.projects: dict[uuid.UUID, str] = dict(projects.values_list("id", "name"))
        self.keys: dict[uuid.UUID, tuple[str, str]] = {
            key_id: (name, prefix)
            for key_id, name, prefix in api_keys.values_list("id", "name", "prefix")
        }

    def project(self, project_id: uuid.UUID | None) -> str | None:
        return self.projects.get(project_id) if project_id else None

    def key(self, key_id: uuid.UUID | None) -> tuple[str, str] | tuple[None, None]:
        return self.keys.get(key_id, (None, None)) if key_id else (None, None)


def _plain(value: object) -> object:
    """A JSON-ready value: ids and money as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _records(rows: Iterator[tuple[Any, ...]], labels: Labels) -> Iterator[dict[str, object]]:
    for values in rows:
        record = dict(zip(FIELDS, (_plain(v) for v in values), strict=True))
        project_id, key_id = values[2], values[3]
        key_name, key_prefix = labels.key(key_id)
        record["project_name"] = labels.project(project_id)
        record["key_name"], record["key_prefix"] = key_name, key_prefix
        yield record


def _cell(value: object) -> str:
    """One CSV cell: JSON for lists, '' for null, a formula defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(records: Iterator[dict[str, object]]) -> Iterator[str]:
    """The header row, then one CSV line per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(list(COLUMNS))
    for record in records:
        yield line([_cell(record[name]) for name in COLUMNS])


def jsonl_lines(records: Iterator[dict[str, object]]) -> Iterator[bytes]:
    for record in records:
        yield orjson.dumps({name: record[name] for name in COLUMNS}) + b"\n"


def _lines(
    org: Organization, rows: QuerySet[RequestLog], export_format: str, chunk_rows: int
) -> Iterator[str | bytes]:
    # In a transaction, Django's server-side cursor is a plain one that PostgreSQL
    # feeds as it is read; outside one it would be WITH HOLD, which makes the server
    # materialize the whole result before the first row. A client that leaves closes
    # this generator, which ends the transaction (GeneratorExit rolls it back).
    with transaction.atomic():
        tuples: Iterator[tuple[Any, ...]] = rows.values_list(*FIELDS).iterator(
            chunk_size=chunk_rows
        )
        records = _records(tuples, Labels(org))
        yield from csv_lines(records) if export_format == "csv" else jsonl_lines(records)


def export_response(
    org: Organization,
    rows: QuerySet[RequestLog],
    export_format: str,
    chunk_rows: int = CHUNK_ROWS,
) -> StreamingHttpResponse:
    """Stream `rows`, in their order, as an attachment in `export_format` (csv or jsonl)."""
    assert export_format in FORMATS
    lines = _lines(org, rows, export_format, chunk_rows)
    response = StreamingHttpResponse(lines, content_type=FORMATS[export_format])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    name = f"requests-{org.slug}-{stamp}.{export_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def wants_export(format_param: str | None, accept: str) -> str | None:
    """The export format a request asks for (?format= first, then Accept), None for JSON pages."""
    if format_param is not None:
        return None if format_param == "json" else format_param
    media = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if "application/json" in media:  # a client that takes JSON gets the page
        return None
    if "text/csv" in media:
        return "csv"
    if media & {"application/jsonl", "application/x-ndjson", "application/jsonlines"}:
        return "jsonl"
    return None
