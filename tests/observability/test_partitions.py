"""Day partitions: created ahead (beat), on demand, once when workers race; dropped behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from observability import partitions
from observability.tasks import create_partitions_ahead

FAR = date(2091, 3, 1)  # days no other test writes


def test_ensuring_partitions_twice_creates_them_once(db: None) -> None:
    created = partitions.ensure_partitions(FAR, FAR + timedelta(days=2))

    assert created == [
        f"{table}_p{FAR + timedelta(days=i):%Y%m%d}"
        for table in partitions.TABLES
        for i in range(3)
    ]
    assert partitions.ensure_partitions(FAR, FAR + timedelta(days=2)) == []
    for table in partitions.TABLES:
        assert partitions.list_partitions(table)[-3:] == [FAR + timedelta(days=i) for i in range(3)]


def test_dropping_before_a_day_drops_only_the_older_days(db: None) -> None:
    partitions.ensure_partitions(FAR, FAR + timedelta(days=3))

    dropped = partitions.drop_partitions_before(FAR + timedelta(days=2))

    kept = partitions.list_partitions()
    assert FAR + timedelta(days=2) in kept and FAR + timedelta(days=3) in kept
    assert FAR not in kept and FAR + timedelta(days=1) not in kept
    assert f"observability_trace_p{FAR:%Y%m%d}" in dropped
    assert all(day >= FAR + timedelta(days=2) for day in partitions.list_partitions())
    assert partitions.drop_partitions_before(FAR + timedelta(days=2)) == []


def test_beat_creates_the_retention_window_and_the_days_ahead(db: None) -> None:
    today = FAR + timedelta(days=100)

    result = create_partitions_ahead.apply(kwargs={"today": today.isoformat()})

    assert result.successful()
    first = today - timedelta(days=settings.RETENTION_DAYS)
    last = today + timedelta(days=partitions.AHEAD_DAYS)
    wanted = {first + timedelta(days=i) for i in range((last - first).days + 1)}
    for table in partitions.TABLES:
        assert wanted <= set(partitions.list_partitions(table))
    assert today + timedelta(days=partitions.AHEAD_DAYS + 1) not in partitions.list_partitions()
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "observability.tasks.create_partitions_ahead" in schedule
    assert "observability.tasks.purge_expired_data" in schedule


@pytest.fixture
def racing_days(transactional_db: None) -> Iterator[tuple[date, date]]:
    """Days two workers create at once; dropped afterwards (their DDL is committed)."""
    first, last = FAR + timedelta(days=200), FAR + timedelta(days=204)
    yield first, last
    # Only these: drop_partitions_before would drop every earlier day, for good.
    with connection.cursor() as cursor:
        for table in partitions.TABLES:
            for i in range((last - first).days + 1):
                name = partitions.partition_name(table, first + timedelta(days=i))
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


def test_two_workers_creating_the_same_days_at_once_both_succeed(
    racing_days: tuple[date, date],
) -> None:
    first, last = racing_days
    start = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(partitions.ensure_partitions(first, last))
        except BaseException as e:  # reported below, with the test's failure
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    created = sorted(name for result in results for name in result)
    expected = sorted(
        partitions.partition_name(table, first + timedelta(days=i))
        for table in partitions.TABLES
        for i in range(5)
    )
    assert created == expected  # each day made once, by one worker or the other


def test_creating_a_partition_behind_a_long_reader_gives_up_instead_of_queueing_everyone(
    transactional_db: None,
) -> None:
    reading, done = threading.Event(), threading.Event()

    def long_reader() -> None:  # a streamed export, say: its transaction holds the log open
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM observability_requestlog")
                reading.set()
                done.wait(60)
        finally:
            connection.close()

    reader = threading.Thread(target=long_reader)
    reader.start()
    try:
        assert reading.wait(30)
        with pytest.raises(OperationalError):
            partitions.ensure_partitions(FAR + timedelta(days=300), FAR + timedelta(days=300))
    finally:
        done.set()
        reader.join()
    assert FAR + timedelta(days=300) not in partitions.list_partitions()
