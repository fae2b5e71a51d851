"""One batch of usage rows into PostgreSQL: COPY to staging, set-based inserts, one transaction.

Per batch: the rows are COPY'd into a temporary staging table; one statement
inserts them into the partitioned request log (ON CONFLICT DO NOTHING, so a
re-drained event is a no-op), inserts the traces of the rows it actually
inserted, and books the ledger entries (a reaped request's entry, its
estimate, wins over a late settlement, as before). The rows actually
inserted come back (RETURNING) and only they are added to the per-day rollups
(COPY + INSERT ... ON CONFLICT DO UPDATE), so a replay counts once. All of it
commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from gateway.budgets.models import LedgerEntry
from observability.latency_histogram import BUCKETS
from observability.usage_rows import LOG_COLUMNS, RollupKey, UsageRow

STAGING = "drain_staging"
ROLLUP_STAGING = "drain_rollup_staging"
_LEDGER = LedgerEntry._meta.db_table
# Same types as the target columns, without their checks: what a column could
# never hold fails the COPY (DataError), what a check refuses fails the insert
# (IntegrityError), as when the rows were inserted directly.
# (S608: every name interpolated in these statements is a constant of this module.)
_STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    request_id varchar(32) NOT NULL, org_id uuid, project_id uuid, team_id uuid, key_id uuid,
    user_id uuid, created_at timestamptz NOT NULL, endpoint varchar(64),
    model_requested varchar(200), model_dispatched varchar(200), provider varchar(32),
    deployment_id varchar(100), strategy varchar(16), stream boolean, status smallint,
    error_type varchar(64), error_code varchar(64), input_tokens integer,
    output_tokens integer, cached_input_tokens integer, reasoning_tokens integer,
    latency_ms integer, ttfb_ms integer, cost_usd numeric(18, 6), attempts jsonb,
    client_disconnected boolean, redactions jsonb, upstream_host varchar(255),
    error_provider varchar(32), routing_version bigint, task varchar(32),
    platform_fee_usd numeric(18, 6),
    keep_log boolean NOT NULL, trace_day date, trace_sealed text,
    ledger_org_id uuid, ledger_kind varchar(16), ledger_cost_nano bigint,
    ledger_windows varchar(100)[], ledger_occurred_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS {ROLLUP_STAGING} (
    org_id uuid NOT NULL, day date NOT NULL, project_id uuid, key_id uuid, user_id uuid,
    model varchar(200) NOT NULL, provider varchar(32) NOT NULL, status smallint NOT NULL,
    task varchar(32) NOT NULL, requests bigint, errors bigint, input_tokens bigint,
    output_tokens bigint, cached_input_tokens bigint, reasoning_tokens bigint,
    cost_nano bigint, platform_fee_nano bigint, latency_hist integer[]
) ON COMMIT DELETE ROWS;
DELETE FROM {STAGING};
DELETE FROM {ROLLUP_STAGING};
"""  # noqa: S608
_EXTRA = (
    "keep_log", "trace_day", "trace_sealed", "ledger_org_id", "ledger_kind",
    "ledger_cost_nano", "ledger_windows", "ledger_occurred_at",
)  # fmt: skip
_LOG = ", ".join(LOG_COLUMNS)
_WRITE = f"""
WITH inserted AS (
    INSERT INTO observability_requestlog ({_LOG})
    SELECT {_LOG} FROM {STAGING} WHERE keep_log
    ON CONFLICT (request_id, created_at) DO NOTHING
    RETURNING request_id, created_at
), traced AS (
    INSERT INTO observability_trace (request_id, org_id, created_at, day, sealed)
    SELECT s.request_id, s.org_id, s.created_at, s.trace_day, decode(s.trace_sealed, 'base64')
    FROM {STAGING} s JOIN inserted i USING (request_id, created_at)
    WHERE s.trace_sealed IS NOT NULL
), booked AS (
    INSERT INTO {_LEDGER} (org_id, request_id, kind, cost_nano, windows, occurred_at)
    SELECT ledger_org_id, request_id, ledger_kind, ledger_cost_nano, ledger_windows,
           ledger_occurred_at
    FROM {STAGING} WHERE ledger_org_id IS NOT NULL
    ORDER BY request_id
    ON CONFLICT (request_id) DO NOTHING
)
SELECT request_id FROM inserted
"""  # noqa: S608
_GROUP = "org_id, day, project_id, key_id, user_id, model, provider, status, task"
_SUMS = (
    "requests", "errors", "input_tokens", "output_tokens", "cached_input_tokens",
    "reasoning_tokens", "cost_nano", "platform_fee_nano",
)  # fmt: skip
_ROLLUP_COLUMNS = f"{_GROUP}, {', '.join(_SUMS)}, latency_hist"
# Sorted by the group, so two workers adding to the same rows lock them in
# the same order and never deadlock.
_ROLLUP = f"""
INSERT INTO observability_usagerollup AS r ({_ROLLUP_COLUMNS})
SELECT {_ROLLUP_COLUMNS} FROM {ROLLUP_STAGING} ORDER BY {_GROUP}
ON CONFLICT ({_GROUP}) DO UPDATE SET
    {", ".join(f"{name} = r.{name} + EXCLUDED.{name}" for name in _SUMS)},
    latency_hist = ARRAY(
        SELECT coalesce(a, 0) + coalesce(b, 0)
        FROM unnest(r.latency_hist, EXCLUDED.latency_hist) WITH ORDINALITY AS u(a, b, i)
        ORDER BY i
    )
"""  # noqa: S608


def array_literal(items: Iterable[object]) -> str:
    """PostgreSQL's text form of an array (cheaper than psycopg's list dumper, per row)."""
    quoted = (str(item).replace("\\", "\\\\").replace('"', '\\"') for item in items)
    return "{" + ",".join(f'"{item}"' for item in quoted) + "}"


def _staged(row: UsageRow, keep_log: bool) -> tuple[object, ...]:
    trace_day, sealed = row.trace if row.trace is not None else (None, None)
    ledger = row.ledger
    if ledger is None:
        booked: tuple[object, ...] = (None, None, None, None, None)
    else:
        windows = array_literal(ledger.windows)
        booked = (ledger.org_id, ledger.kind, ledger.cost_nano, windows, ledger.occurred_at)
    return (*row.log, keep_log, trace_day, sealed, *booked)


def rollups_of(rows: Iterable[UsageRow]) -> dict[RollupKey, tuple[list[int], list[int]]]:
    """Per group: the sums of _SUMS and the latency histogram, of the rows given."""
    groups: dict[RollupKey, tuple[list[int], list[int]]] = {}
    for row in rows:
        if row.rollup_key is None:
            continue
        *values, bucket = row.rollup_values
        group = groups.get(row.rollup_key)
        if group is None:
            group = groups[row.rollup_key] = ([0] * len(_SUMS), [0] * BUCKETS)
        sums, histogram = group
        for i, value in enumerate(values):
            sums[i] += value
        histogram[bucket] += 1
    return groups


def write_batch(rows: list[UsageRow], keep: set[str]) -> int:
    """Write the rows in one transaction; return how many log rows were inserted.

    `keep`: the request ids whose log row (and trace) is written; the others
    (past the retention) only book their ledger entry.
    """
    # wrap_database_errors: psycopg's own errors become Django's (IntegrityError,
    # DataError, OperationalError…), which is what the drain sorts them by.
    with transaction.atomic(), connection.wrap_database_errors:
        connection.ensure_connection()
        with connection.cursor() as wrapper:
            # Foreign keys are checked at each insert, not at commit, so a
            # refused event fails here, inside the block, nested or not.
            wrapper.execute("SET CONSTRAINTS ALL IMMEDIATE")
            wrapper.execute(_STAGING_DDL)
            cursor = wrapper.cursor
            columns = ", ".join((*LOG_COLUMNS, *_EXTRA))
            with cursor.copy(f"COPY {STAGING} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_staged(row, row.request_id in keep))
            cursor.execute(_WRITE)
            # The batch holds each request id once (observability.drain), so the
            # id alone says which rows were inserted.
            inserted = {request_id for (request_id,) in cursor.fetchall()}
            fresh = [row for row in rows if row.request_id in inserted]
            groups = rollups_of(fresh)
            if groups:
                with cursor.copy(f"COPY {ROLLUP_STAGING} ({_ROLLUP_COLUMNS}) FROM STDIN") as copy:
                    for key, (sums, histogram) in groups.items():
                        copy.write_row((*key, *sums, array_literal(histogram)))
                cursor.execute(_ROLLUP)
    return len(inserted)
