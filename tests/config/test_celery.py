"""The worker knows every task beat sends, by the names messages already queued carry."""

from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_every_beat_entry_names_a_task_the_worker_has() -> None:
    app.loader.import_default_modules()
    missing = {
        entry: spec["task"]
        for entry, spec in settings.CELERY_BEAT_SCHEDULE.items()
        if spec["task"] not in app.tasks
    }
    assert missing == {}


def test_the_budget_tasks_keep_their_names_from_before_the_move_under_gateway() -> None:
    app.loader.import_default_modules()
    assert {
        "budgets.tasks.rebuild_lost_counters",
        "budgets.tasks.reap_expired_reservations",
        "budgets.tasks.reconcile_counters",
    } <= set(app.tasks)
