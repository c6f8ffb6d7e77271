"""The embedded beat runs the real schedule's task code when it is due, and only then."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from celery import shared_task
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app as celery_app
from core.scheduler import EmbeddedBeat

runs: list[str] = []


@shared_task(name="core.tests.record_run")
def record_run(label: str) -> None:
    runs.append(label)


@shared_task(name="core.tests.explode")
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _clear_runs() -> None:
    runs.clear()


def expired_session() -> str:
    session = SessionStore()
    session.create()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    return str(session.session_key)


def test_the_beat_schedule_names_registered_tasks() -> None:
    EmbeddedBeat(celery_app, settings.CELERY_BEAT_SCHEDULE)

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


@pytest.mark.django_db(transaction=True)
async def test_a_due_entry_of_the_real_schedule_runs_its_task() -> None:
    # database_sync_to_async closes its thread's connection, as a consumer's would be.
    session_key = await database_sync_to_async(expired_session)()
    name = "accounts.purge_expired_credentials"
    beat = EmbeddedBeat(celery_app, {name: settings.CELERY_BEAT_SCHEDULE[name]})
    (entry,) = beat.entries
    entry.last_run_at = entry.last_run_at - timedelta(hours=2)

    await beat.tick()

    exists = await database_sync_to_async(Session.objects.filter(session_key=session_key).exists)()
    assert exists is False
    assert entry.last_run_at > timezone.now() - timedelta(seconds=5)


def test_every_entry_of_the_real_schedule_names_a_registered_task() -> None:
    celery_app.loader.import_default_modules()

    unknown = [
        spec["task"]
        for spec in settings.CELERY_BEAT_SCHEDULE.values()
        if spec["task"] not in celery_app.tasks
    ]

    assert unknown == []


async def test_an_entry_that_is_not_due_does_not_run() -> None:
    beat = EmbeddedBeat(
        celery_app,
        {"later": {"task": "core.tests.record_run", "schedule": 3600, "args": ("later",)}},
    )

    sleep_for = await beat.tick()

    assert runs == []
    assert 59.0 <= sleep_for <= 60.0  # capped at MAX_SLEEP_SECONDS


async def test_due_entries_run_once_per_period() -> None:
    beat = EmbeddedBeat(
        celery_app,
        {"often": {"task": "core.tests.record_run", "schedule": 30, "args": ("often",)}},
    )
    beat.entries[0].last_run_at -= timedelta(seconds=31)

    await beat.tick()
    await beat.tick()

    assert runs == ["often"]


async def test_a_failing_task_is_logged_and_does_not_stop_the_others(caplog: Any) -> None:
    beat = EmbeddedBeat(
        celery_app,
        {
            "broken": {"task": "core.tests.explode", "schedule": 10},
            "fine": {"task": "core.tests.record_run", "schedule": 10, "args": ("fine",)},
        },
    )
    for entry in beat.entries:
        entry.last_run_at -= timedelta(seconds=11)

    await beat.tick()

    assert runs == ["fine"]
    assert [(r.getMessage(), r.task) for r in caplog.records if r.name == "core.scheduler"] == [
        ("scheduled task failed", "core.tests.explode"),
        ("scheduled task ran", "core.tests.record_run"),
    ]
