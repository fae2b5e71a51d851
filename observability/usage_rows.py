"""A usage event read into what the drain writes: a log row, maybe a trace and a ledger entry.

Everything here is checked field by field, because an event may come from an
older proxy or carry what a tenant's own upstream reported: a field of the
wrong shape is left out (optional metadata) or makes the event malformed
(what the log cannot do without), never a value where a count belongs. The
database refuses the rest (out of range, a deleted org) and the drain sets
those events aside (observability.drain).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice
from typing import Any, TypedDict, cast

import orjson

from gateway.budgets.models import LedgerKind
from gateway.models import Strategy
from gateway.pii_policy.models import Action
from gateway.proxy.metrics import TRACES_DROPPED
from gateway.shared.money import NANO_PER_USD
from gateway.shared.traces import NONCE_BYTES, PART_MAX_BYTES
from gateway.shared.usage_event import UsageEvent
from observability.latency_histogram import bucket_of

MAX_REDACTIONS = 64
MAX_COUNT = 2**31 - 1
WHERE = ("prompt", "answer")
# Entity types, built-in or a tenant's pattern name: never free text, which could be a value.
_ENTITY = re.compile(r"[A-Z][A-Z0-9_]*")
_DETECTOR = re.compile(r"[A-Za-z0-9_.:-]+")
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")
_LABEL = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A host name or address and an optional port: what Attempt.endpoint promises.
_HOST = re.compile(r"[A-Za-z0-9_.\-\[\]:]{1,255}")
# What a sealed trace may weigh: its two capped halves (gateway.shared.traces),
# the JSON around them, the nonce and the tag. Anything larger did not come
# from our proxy's capping and is not stored.
MAX_TRACE_BYTES = 2 * PART_MAX_BYTES + 16 * 1024
_MAX_TRACE_BASE64 = 4 * ((MAX_TRACE_BYTES + 2) // 3)
_TAG_BYTES = 16
# The log's money columns keep 6 decimals (numeric(18, 6)); the rollups get
# the same rounded amount, so their totals equal the log's sums exactly.
_MICRO = Decimal("0.000001")


class Redaction(TypedDict):
    """One line of a request's PII audit: how many of a type, what was done, where."""

    entity: str
    action: str  # mask | pseudonymize | block | allow
    count: int
    detector: str
    where: str  # prompt | answer


# The request log's columns the drain fills, in the order of UsageRow.log.
LOG_COLUMNS = (
    "request_id", "org_id", "project_id", "team_id", "key_id", "user_id", "created_at",
    "endpoint", "model_requested", "model_dispatched", "provider", "deployment_id",
    "strategy", "stream", "status", "error_type", "error_code", "input_tokens",
    "output_tokens", "cached_input_tokens", "reasoning_tokens", "latency_ms", "ttfb_ms",
    "cost_usd", "attempts", "client_disconnected", "redactions", "upstream_host",
    "error_provider", "routing_version", "task", "platform_fee_usd",
)  # fmt: skip
# What one rollup row is grouped by (observability.models.UsageRollup).
RollupKey = tuple[str, date, str | None, str | None, str | None, str, str, int, str]


@dataclass(frozen=True, slots=True)
class Ledger:
    """The ledger entry of a settled request, as gateway.budgets.ledger.settled_entry makes it."""

    org_id: str
    kind: str
    cost_nano: int
    windows: list[str]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One event as the drain writes it."""

    request_id: str
    created_at: datetime
    log: tuple[Any, ...]  # LOG_COLUMNS
    trace: tuple[date, str] | None  # the key's day, the sealed bytes in base64
    ledger: Ledger | None
    # None for a request refused before auth: it belongs to no org's usage.
    rollup_key: RollupKey | None
    # requests, errors, 4 token counts, cost_nano, platform_fee_nano, latency bucket
    rollup_values: tuple[int, int, int, int, int, int, int, int, int]

    @property
    def day(self) -> date:
        return self.created_at.date()


def _uuid(value: object) -> str | None:
    """The id in its canonical form, or None when absent or not a UUID.

    The canonical form (what proxies write) is checked with a pattern and
    passed on as text for PostgreSQL to read, which costs a fraction of
    building a uuid.UUID per field; any other spelling goes through uuid.UUID.
    """
    if not value:
        return None
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _usd(value: object) -> Decimal | None:
    """A decimal-string amount rounded as the log keeps it; None when absent or not a number."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(_MICRO, rounding=ROUND_HALF_UP)


def _nano(amount: Decimal | None) -> int:
    return int(amount * NANO_PER_USD) if amount is not None else 0


def _text(value: object, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _redaction(item: object) -> Redaction | None:
    """One item as the log keeps it, or None when it is not of the documented shape."""
    if not isinstance(item, dict):
        return None
    entity, detector = _text(item.get("entity"), 64), _text(item.get("detector"), 64)
    action, where, count = item.get("action"), item.get("where"), item.get("count")
    if entity is None or not _ENTITY.fullmatch(entity):
        return None
    if detector is None or not _DETECTOR.fullmatch(detector):
        return None
    if action not in Action.values or where not in WHERE:
        return None
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= MAX_COUNT:
        return None
    return {
        "entity": entity,
        "action": str(action),
        "count": count,
        "detector": detector,
        "where": str(where),
    }


def redactions_of(event: Mapping[str, object]) -> list[Redaction]:
    """The event's redaction counts, items of the wrong shape dropped, at most MAX_REDACTIONS.

    Optional (events from before the PII stage have none) and checked item by
    item: a bad item must neither block the stream nor put a value, rather
    than a count, into the log.
    """
    given = event.get("redactions")
    if not isinstance(given, list):
        return []
    kept = (redaction for redaction in map(_redaction, given) if redaction is not None)
    return list(islice(kept, MAX_REDACTIONS))


def strategy_of(event: Mapping[str, object]) -> str:
    """The route's strategy if it is one of ours, else "" (optional: older events have none)."""
    given = event.get("strategy")
    return given if isinstance(given, str) and given in Strategy.values else ""


def error_code_of(event: Mapping[str, object]) -> str:
    """The error's code if it reads like one of ours, else "" (optional: older events have none)."""
    given = event.get("error_code")
    return given if isinstance(given, str) and _ERROR_CODE.fullmatch(given) else ""


def label_of(event: Mapping[str, object], name: str) -> str:
    """A short label (error_provider, task) if it reads like one, else ""."""
    given = event.get(name)
    return given if isinstance(given, str) and _LABEL.fullmatch(given) else ""


def routing_version_of(event: Mapping[str, object]) -> int | None:
    given = event.get("routing_version")
    if isinstance(given, int) and not isinstance(given, bool) and 0 <= given < 2**63:
        return given
    return None


def upstream_host_of(event: Mapping[str, object]) -> str:
    """The endpoint ("host[:port]") of the attempt that answered, else "".

    The last attempt whose outcome is "ok"; a failed request names none. Only
    a host and port are kept: never a path, a query or a key, whatever an
    older proxy wrote there.
    """
    attempts = event.get("attempts")
    if not isinstance(attempts, list):
        return ""
    for attempt in reversed(attempts):
        if isinstance(attempt, dict) and attempt.get("outcome") == "ok":
            endpoint = attempt.get("endpoint")
            if isinstance(endpoint, str) and _HOST.fullmatch(endpoint):
                return endpoint
            return ""
    return ""


def trace_of(event: Mapping[str, object], org_id: str | None, day: date) -> tuple[date, str] | None:
    """The sealed trace's day and base64, or None (none sent, or not one we store: counted).

    The drain never opens a trace; it checks only that the envelope is ours:
    a real day within one of the request's (whose data key sealed it), valid
    base64, and no larger than the proxy's caps allow.
    """
    envelope = event.get("trace")
    if envelope is None:
        return None
    reason = "invalid"
    if isinstance(envelope, dict) and org_id is not None:
        day_text, sealed = envelope.get("day"), envelope.get("sealed")
        if isinstance(sealed, str) and len(sealed) > _MAX_TRACE_BASE64:
            reason = "too_large"
        elif isinstance(day_text, str) and _DAY.fullmatch(day_text) and isinstance(sealed, str):
            try:
                key_day = date.fromisoformat(day_text)
                raw = base64.b64decode(sealed, validate=True)
            except (ValueError, binascii.Error):
                raw = b""
                key_day = day
            if abs((key_day - day).days) <= 1 and len(raw) >= NONCE_BYTES + _TAG_BYTES:
                # As text: PostgreSQL decodes it (COPY carries base64 in 4/3
                # of the bytes, where bytea's text form takes twice as many).
                return key_day, sealed
    TRACES_DROPPED.labels(reason=reason).inc()
    return None


def without_nul(value: Any) -> Any:
    """The decoded event with NUL characters removed from every string.

    PostgreSQL stores no NUL in text or jsonb; proxies refuse them in what a
    tenant sends, but an event written by an older proxy may still carry one,
    and its ledger entry (money) is worth more than a NUL in a model name.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def _ledger(event: UsageEvent, created_at: datetime) -> Ledger | None:
    """The settlement's ledger entry: gateway.budgets.ledger.settled_entry's fields.

    Built here rather than through settled_entry, whose model instance costs
    more than the rest of the event; a test holds the two equal.
    """
    if not event.get("windows"):
        return None
    org_id = str(uuid.UUID(str(event["org_id"])))  # required: raises on a bad one (malformed)
    windows = event["windows"]
    if not isinstance(windows, list):
        raise TypeError("windows is a list")
    return Ledger(
        org_id=org_id,
        kind=LedgerKind.SETTLED.value,
        cost_nano=max(int(event["charged_nano"]), 0),
        windows=[str(window) for window in windows],
        occurred_at=created_at,
    )


def usage_row(raw: bytes) -> UsageRow:
    """The rows of one event as the proxy wrote it; raises on an event that cannot be read.

    (AttributeError: valid JSON that is not an object; KeyError, TypeError,
    ValueError, OverflowError, OSError: a missing or mistyped field.)
    """
    event: UsageEvent = orjson.loads(raw)
    # orjson writes a NUL as the escape \u0000: only such events need the walk.
    if b"\\u0000" in raw:
        event = without_nul(event)
    loose = cast(Mapping[str, object], event)
    created_at = datetime.fromtimestamp(event["ts"], tz=UTC)
    org_id = _uuid(event["org_id"])
    project_id, key_id, user_id = (
        _uuid(event["project_id"]),
        _uuid(event["key_id"]),
        _uuid(event["user_id"]),
    )
    model_requested = (event["model_requested"] or "")[:200]
    model_dispatched = (event["model_dispatched"] or "")[:200]
    provider = (event["provider"] or "")[:32]
    status = event["status"]
    task = label_of(loose, "task")
    cost = _usd(event["cost_usd"])
    fee = _usd(loose.get("platform_fee_usd"))
    latency_ms = event["latency_ms"]
    tokens = (
        event["input_tokens"],
        event["output_tokens"],
        event["cached_input_tokens"],
        event["reasoning_tokens"],
    )
    for number in (status, latency_ms, *tokens):
        # The database refuses what is out of range (set aside as refused); a
        # string or a bool is not a count at all (malformed).
        if not isinstance(number, int) or isinstance(number, bool):
            raise TypeError("counts are integers")
    log = (
        event["request_id"], org_id, project_id, _uuid(event["team_id"]), key_id, user_id,
        created_at, event["endpoint"][:64], model_requested, model_dispatched, provider,
        (event["deployment_id"] or "")[:100], strategy_of(loose), event["stream"], status,
        (event["error_type"] or "")[:64], error_code_of(loose), *tokens, latency_ms,
        event["ttfb_ms"], cost, orjson.dumps(event["attempts"]).decode(),
        event["client_disconnected"], orjson.dumps(redactions_of(loose)).decode(),
        upstream_host_of(loose), label_of(loose, "error_provider"), routing_version_of(loose),
        task, fee,
    )  # fmt: skip
    rollup_key: RollupKey | None = None
    if org_id is not None:
        model = model_dispatched or model_requested
        rollup_key = (org_id, created_at.date(), project_id, key_id, user_id, model, provider,
                      status, task)  # fmt: skip
    return UsageRow(
        request_id=event["request_id"],
        created_at=created_at,
        log=log,
        trace=trace_of(loose, org_id, created_at.date()),
        ledger=_ledger(event, created_at),
        rollup_key=rollup_key,
        rollup_values=(
            1,
            int(status >= 400),
            *tokens,
            _nano(cost),
            _nano(fee),
            bucket_of(latency_ms),
        ),
    )
