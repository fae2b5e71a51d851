"""Filter and page the request log: the one query behind the API, the dashboard and exports.

The filter is read from query parameters (`from, to, model, project_id,
key_id, status, error_type`; CONTRACT.md section 4) and every bad value is an
`Invalid` naming it, so the API answers 400 in the documented shape and the
dashboard shows the message. Every query starts from the caller's org: a
project or key id of another org simply matches nothing.

Pages are a keyset over (created_at, id), newest first. The log is
partitioned by day on created_at (primary key (id, created_at)), so a bound
on created_at lets PostgreSQL skip whole partitions and walk the
(org, created_at) index backwards, where `id < n` would probe every
partition's index. The cursor is opaque to clients ("c" + base64url of
"<microseconds since epoch>.<id>"); the old integer cursor (an id, from the
API before the log was partitioned) still works: it is looked up once and
turned into the same keyset, or, if that row is gone (retention), read as
`id < n` as it used to be.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from observability.models import RequestLog
from tenants.errors import Invalid
from tenants.models import Organization

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_ID = 2**63 - 1  # a bigint id: the largest legacy cursor
_DIGITS = re.compile(r"[0-9]{1,19}")
_CURSOR = re.compile(r"c[A-Za-z0-9_-]{4,64}")
_KEYSET = re.compile(r"(-?[0-9]{1,19})\.([0-9]{1,19})")
_STATUS_CLASSES = {"2xx": (200, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 600)}
STATUS_CHOICES = ("error", *_STATUS_CLASSES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Keyset:
    """Where a page ends: the last row's (created_at, id); the next page is strictly older."""

    created_at: datetime
    id: int


@dataclass(frozen=True)
class LegacyCursor:
    """An integer cursor of the API before partitioning: rows with a smaller id."""

    id: int


@dataclass(frozen=True)
class RequestFilter:
    """What a reader asked to see; None = no condition on that column."""

    since: datetime | None = None
    until: datetime | None = None
    model: str | None = None
    project_id: uuid.UUID | None = None
    key_id: uuid.UUID | None = None
    status: str | None = None  # "429", or a class: 2xx 3xx 4xx 5xx error
    error_type: str | None = None


def param(params: Mapping[str, str], name: str) -> str | None:
    """The query parameter `name`, or None when absent; empty or holding NUL is invalid."""
    raw = params.get(name)
    if raw is None:
        return None
    if not raw:
        raise Invalid(name, f"'{name}' may not be empty; leave it out instead.")
    if "\x00" in raw:  # PostgreSQL cannot even compare with it
        raise Invalid(name, f"'{name}' may not contain NUL characters.")
    return raw


def _datetime(params: Mapping[str, str], name: str) -> datetime | None:
    raw = param(params, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as e:
        raise Invalid(name, f"'{name}' must be an ISO 8601 date-time.") from e
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # the API's dates are UTC (CONTRACT.md section 4)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+05:00 lies before the first instant PostgreSQL and Python can hold.
        return (
            datetime.min.replace(tzinfo=UTC)
            if moment.year == 1
            else datetime.max.replace(tzinfo=UTC)
        )


def integer(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high], `default` when absent."""
    raw = param(params, name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also takes "²" (int() then fails) and "٣" (int() reads 3).
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise Invalid(name, f"'{name}' must be an integer from {low} to {high}.")
    return int(raw)


def _uuid(params: Mapping[str, str], name: str) -> uuid.UUID | None:
    raw = param(params, name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as e:
        raise Invalid(name, f"'{name}' must be a UUID.") from e


def _status(params: Mapping[str, str]) -> str | None:
    raw = param(params, "status")
    if raw is None or raw in STATUS_CHOICES:
        return raw
    if _DIGITS.fullmatch(raw) and 100 <= int(raw) <= 599:
        return str(int(raw))
    raise Invalid(
        "status", "'status' must be an HTTP status from 100 to 599, or 2xx, 3xx, 4xx, 5xx, error."
    )


def _word(params: Mapping[str, str], name: str, longest: int) -> str | None:
    raw = param(params, name)
    if raw is not None and len(raw) > longest:
        raise Invalid(name, f"'{name}' may be at most {longest} characters.")
    return raw


def read_filter(params: Mapping[str, str]) -> RequestFilter:
    """Read a RequestFilter from query parameters; raise Invalid naming the first bad one."""
    since, until = _datetime(params, "from"), _datetime(params, "to")
    if since is not None and until is not None and since >= until:
        raise Invalid("to", "'to' must be after 'from'.")
    return RequestFilter(
        since=since,
        until=until,
        model=_word(params, "model", 200),
        project_id=_uuid(params, "project_id"),
        key_id=_uuid(params, "key_id"),
        status=_status(params),
        error_type=_word(params, "error_type", 64),
    )


def filtered(org: Organization, wanted: RequestFilter) -> QuerySet[RequestLog]:
    """The org's request log rows that match `wanted`, in no particular order."""
    rows = RequestLog.objects.filter(org=org)
    if wanted.since is not None:
        rows = rows.filter(created_at__gte=wanted.since)
    if wanted.until is not None:
        rows = rows.filter(created_at__lt=wanted.until)
    if wanted.model is not None:
        # The alias asked for or the model that answered: a reader knows either.
        rows = rows.filter(Q(model_requested=wanted.model) | Q(model_dispatched=wanted.model))
    if wanted.project_id is not None:
        rows = rows.filter(project_id=wanted.project_id)
    if wanted.key_id is not None:
        rows = rows.filter(key_id=wanted.key_id)
    if wanted.status == "error":
        rows = rows.filter(status__gte=400)
    elif wanted.status in _STATUS_CLASSES:
        low, high = _STATUS_CLASSES[wanted.status]
        rows = rows.filter(status__gte=low, status__lt=high)
    elif wanted.status is not None:
        rows = rows.filter(status=int(wanted.status))
    if wanted.error_type is not None:
        # The answer's type (upstream_error) or its code (upstream_timeout): both name errors.
        rows = rows.filter(Q(error_type=wanted.error_type) | Q(error_code=wanted.error_type))
    return rows


def newest_first(rows: QuerySet[RequestLog]) -> QuerySet[RequestLog]:
    return rows.order_by("-created_at", "-id")


def encode_cursor(row: RequestLog) -> str:
    """The opaque cursor of the page after `row`."""
    delta = row.created_at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = f"{micros}.{row.id}".encode()
    return "c" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(params: Mapping[str, str]) -> Keyset | LegacyCursor | None:
    """The `cursor` parameter: a next_cursor this API gave, or an old integer id."""
    raw = param(params, "cursor")
    if raw is None:
        return None
    if _DIGITS.fullmatch(raw) and 1 <= int(raw) <= MAX_ID:
        return LegacyCursor(int(raw))
    problem = Invalid("cursor", "'cursor' must be a next_cursor this API returned.")
    if not _CURSOR.fullmatch(raw):
        raise problem
    try:
        decoded = base64.urlsafe_b64decode(raw[1:] + "=" * (-len(raw[1:]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as e:
        raise problem from e
    found = _KEYSET.fullmatch(decoded)
    if not found:
        raise problem
    micros, row_id = int(found.group(1)), int(found.group(2))
    try:
        moment = _EPOCH + timedelta(microseconds=micros)
    except OverflowError as e:
        raise problem from e
    return Keyset(moment, row_id)


def after(
    rows: QuerySet[RequestLog], org: Organization, cursor: Keyset | LegacyCursor | None
) -> QuerySet[RequestLog]:
    """The rows strictly older than the cursor in newest-first order."""
    if isinstance(cursor, LegacyCursor):
        found = (
            RequestLog.objects.filter(org=org, id=cursor.id).values_list("created_at", flat=True)
        ).first()
        if found is None:
            return rows.filter(id__lt=cursor.id)
        cursor = Keyset(found, cursor.id)
    if cursor is None:
        return rows
    # created_at <= … alone is what PostgreSQL prunes partitions and bounds the index scan
    # with; the OR then breaks ties between rows of the same microsecond by id.
    return rows.filter(created_at__lte=cursor.created_at).filter(
        Q(created_at__lt=cursor.created_at) | Q(id__lt=cursor.id)
    )


@dataclass(frozen=True)
class Page:
    rows: list[RequestLog]
    next_cursor: str | None


def page_of(
    org: Organization,
    wanted: RequestFilter,
    cursor: Keyset | LegacyCursor | None,
    limit: int,
) -> Page:
    """One page of the filtered log, newest first, and the cursor of the next (None: last)."""
    rows = list(newest_first(after(filtered(org, wanted), org, cursor))[: limit + 1])
    if len(rows) > limit:
        return Page(rows[:limit], encode_cursor(rows[limit - 1]))
    return Page(rows, None)
