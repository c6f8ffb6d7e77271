"""Queue positions reach every waiting contact; with a worker, at most once a second."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from queueing import inbox_events, tasks
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    frames: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        inbox_events, "publish_many_on_commit", lambda events: frames.extend(events)
    )
    return frames


def test_every_waiting_contact_hears_their_place_in_line(sent: list[Any]) -> None:
    org = f.organization()
    line = f.queue(org)
    older = f.conversation(line, waiting_since=f.at(0))
    urgent = f.conversation(line, waiting_since=f.at(60), priority=3)
    newer = f.conversation(line, waiting_since=f.at(30))

    told = inbox_events.queue_positions_publish(line.pk)

    assert told == 3
    assert sent == [
        (
            f"widget.contact.{urgent.contact_id}",
            "widget.queue.position",
            {"conversation_id": urgent.pk, "position": 1, "estimated_wait_seconds": None},
        ),
        (
            f"widget.contact.{older.contact_id}",
            "widget.queue.position",
            {"conversation_id": older.pk, "position": 2, "estimated_wait_seconds": None},
        ),
        (
            f"widget.contact.{newer.contact_id}",
            "widget.queue.position",
            {"conversation_id": newer.pk, "position": 3, "estimated_wait_seconds": None},
        ),
    ]


def test_in_process_every_change_publishes_at_once(
    sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    org = f.organization()
    line = f.queue(org)
    f.conversation(line, waiting_since=f.at(0))

    with django_capture_on_commit_callbacks(execute=True):
        inbox_events.queue_positions_changed(line.pk)
        inbox_events.queue_positions_changed(line.pk)

    assert len(sent) == 2


def test_with_a_worker_changes_within_a_second_ride_on_one_task(
    monkeypatch: pytest.MonkeyPatch, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setitem(tasks.publish_queue_positions.app.conf, "task_always_eager", False)
    org = f.organization()
    line = f.queue(org)
    other = f.queue(org, name="Outra")
    cache.delete_many([f"queueing:positions:{line.pk}", f"queueing:positions:{other.pk}"])
    scheduled: list[tuple[tuple[int, ...], float]] = []
    monkeypatch.setattr(
        tasks.publish_queue_positions,
        "apply_async",
        lambda args, countdown: scheduled.append((tuple(args), countdown)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            inbox_events.queue_positions_changed(line.pk)
        inbox_events.queue_positions_changed(other.pk)

    assert scheduled == [((line.pk,), 1.0), ((other.pk,), 1.0)]
    assert sent == []
    cache.delete(f"queueing:positions:{line.pk}")  # the second is over
    with django_capture_on_commit_callbacks(execute=True):
        inbox_events.queue_positions_changed(line.pk)
    assert scheduled[-1] == ((line.pk,), 1.0)
    assert len(scheduled) == 3


def test_the_task_reads_the_line_when_it_runs(sent: list[Any]) -> None:
    org = f.organization()
    line = f.queue(org)
    waiting = f.conversation(line, waiting_since=f.at(0))

    assert tasks.publish_queue_positions(line.pk) == 1
    assert sent == [
        (
            f"widget.contact.{waiting.contact_id}",
            "widget.queue.position",
            {"conversation_id": waiting.pk, "position": 1, "estimated_wait_seconds": None},
        )
    ]
    assert tasks.publish_queue_positions(line.pk + 1000) == 0
