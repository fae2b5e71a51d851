"""Partition the request log and the trace table by UTC day on created_at.

Django's view of the models stays as it is (id is the pk, request_id is
unique): the tables are rebuilt in SQL only. In the database the primary key
becomes (id, created_at) and request_id is unique per created_at, as
PostgreSQL requires the partition key in every unique constraint; the drain's
ON CONFLICT still makes a re-drained event a no-op, since created_at is the
event's own ts. Rows past the retention are not copied over (CONTRACT.md
section 6: none may exist); partitions are created for the retention window
and a few days ahead (observability.partitions, which beat keeps ahead).
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import migrations, models

AHEAD_DAYS = 3  # as observability.partitions.AHEAD_DAYS at the time of writing


def _unpartition(table: str) -> str:
    """SQL moving `table` aside as <table>_unpartitioned, without its keys and indexes.

    Their names are free again for the partitioned table; its identity goes,
    so the new table's own sequence can take the usual name.
    """
    return f"""
    ALTER TABLE {table} RENAME TO {table}_unpartitioned;
    DO $$
    DECLARE item record;
    BEGIN
        FOR item IN SELECT conname FROM pg_constraint
                    WHERE conrelid = '{table}_unpartitioned'::regclass AND contype IN ('p', 'u', 'f')
        LOOP
            EXECUTE format('ALTER TABLE {table}_unpartitioned DROP CONSTRAINT %I', item.conname);
        END LOOP;
        FOR item IN SELECT indexrelid::regclass::text AS name FROM pg_index
                    WHERE indrelid = '{table}_unpartitioned'::regclass
        LOOP
            EXECUTE format('DROP INDEX %s', item.name);
        END LOOP;
    END $$;
    ALTER TABLE {table}_unpartitioned ALTER COLUMN id DROP IDENTITY;
    CREATE SEQUENCE {table}_id_seq AS bigint;
    CREATE TABLE {table} (
        LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
        CONSTRAINT {table}_pkey PRIMARY KEY (id, created_at)
    ) PARTITION BY RANGE (created_at);
    ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq');
    ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id;
    """


FORWARD = (
    _unpartition("observability_requestlog")
    + """
    ALTER TABLE observability_requestlog
        ADD CONSTRAINT requestlog_request_id_day_unique UNIQUE (request_id, created_at),
        ADD CONSTRAINT observability_reques_org_id_6ba895a6_fk_tenants_o
            FOREIGN KEY (org_id) REFERENCES tenants_organization (id) DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX requestlog_org_newest
        ON observability_requestlog (org_id, created_at DESC, id DESC);
    CREATE INDEX requestlog_key_newest
        ON observability_requestlog (key_id, created_at DESC, id DESC);
    CREATE INDEX requestlog_project_newest
        ON observability_requestlog (project_id, created_at DESC, id DESC);
    CREATE INDEX requestlog_model_newest
        ON observability_requestlog (org_id, model_requested, created_at DESC, id DESC);
    CREATE INDEX requestlog_org_errors
        ON observability_requestlog (org_id, status, created_at DESC, id DESC) WHERE status >= 400;
    CREATE INDEX requestlog_error_type
        ON observability_requestlog (org_id, error_type, created_at DESC, id DESC)
        WHERE NOT error_type = '';
    """
    + _unpartition("observability_trace")
    + """
    ALTER TABLE observability_trace
        ADD CONSTRAINT observability_trace_org_id_e600d224_fk_tenants_organization_id
            FOREIGN KEY (org_id) REFERENCES tenants_organization (id) DEFERRABLE INITIALLY DEFERRED;
    CREATE INDEX trace_org_request ON observability_trace (org_id, request_id);
    -- Ciphertext never compresses: kept out of line without trying (partitions inherit it).
    ALTER TABLE observability_trace ALTER COLUMN sealed SET STORAGE EXTERNAL;
    """
)


def _create_partitions_and_copy(apps: object, schema_editor: object) -> None:
    """Partitions for the retention window, a few days ahead and the kept rows; then the rows."""
    from django.db import connection

    today = datetime.now(UTC).date()
    cutoff = today - timedelta(days=settings.RETENTION_DAYS)
    since = f"{cutoff.isoformat()} 00:00:00+00"
    with connection.cursor() as cursor:
        for table in ("observability_requestlog", "observability_trace"):
            cursor.execute(
                f"SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date"
                f" FROM {table}_unpartitioned WHERE created_at >= %s",
                [since],
            )
            days = {row[0] for row in cursor.fetchall()}
            days |= {cutoff + timedelta(days=i) for i in range((today - cutoff).days + 1 + AHEAD_DAYS)}
            for day in sorted(days):
                following = day + timedelta(days=1)
                cursor.execute(
                    f'CREATE TABLE "{table}_p{day:%Y%m%d}" PARTITION OF {table}'
                    f" FOR VALUES FROM ('{day.isoformat()} 00:00:00+00')"
                    f" TO ('{following.isoformat()} 00:00:00+00')"
                )
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned WHERE created_at >= %s",
                [since],
            )
            cursor.execute(
                f"SELECT setval('{table}_id_seq',"
                f" GREATEST((SELECT max(id) FROM {table}_unpartitioned), 1))"
            )
            cursor.execute(f"DROP TABLE {table}_unpartitioned")


class Migration(migrations.Migration):
    dependencies = [
        ("observability", "0005_observability_storage"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(FORWARD),  # irreversible: the rows moved
                migrations.RunPython(_create_partitions_and_copy),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="requestlog", name="requestlog_org_recent"),
                migrations.RemoveIndex(model_name="requestlog", name="requestlog_created"),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        fields=["org", "-created_at", "-id"], name="requestlog_org_newest"
                    ),
                ),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        fields=["key_id", "-created_at", "-id"], name="requestlog_key_newest"
                    ),
                ),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        fields=["project_id", "-created_at", "-id"],
                        name="requestlog_project_newest",
                    ),
                ),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        fields=["org", "model_requested", "-created_at", "-id"],
                        name="requestlog_model_newest",
                    ),
                ),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        condition=models.Q(status__gte=400),
                        fields=["org", "status", "-created_at", "-id"],
                        name="requestlog_org_errors",
                    ),
                ),
                migrations.AddIndex(
                    model_name="requestlog",
                    index=models.Index(
                        condition=models.Q(("error_type", ""), _negated=True),
                        fields=["org", "error_type", "-created_at", "-id"],
                        name="requestlog_error_type",
                    ),
                ),
            ],
        ),
    ]
