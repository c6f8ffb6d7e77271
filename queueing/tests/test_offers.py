"""Offering the turn: to the first in line, once at a time, only to a free professional."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, CallStatus, ProfessionalProfile, ProfessionalStatus
from calls.signals import professional_freed, professional_went_offline
from chat.models import Notification
from core.exceptions import ApplicationError
from queueing import services, tasks
from queueing.models import EntryStatus
from queueing.tests.helpers import (
    at,
    busy_professional,
    committed,
    end_call,
    join,
    queue_events,
    reload,
    snapshot,
)

pytestmark = pytest.mark.django_db


def test_the_first_in_line_is_offered_the_turn_with_a_notification(settings: Any) -> None:
    # Given an offer window of 60s and two clients waiting for a professional who just got free
    settings.QUEUE_OFFER_SECONDS = 60
    pro, call = busy_professional(display_name="Helena")
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)

    # When the next turn is offered at 10s
    offered = services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # Then the first gets it until 70s, with a queue_turn notification; the second waits
    assert offered is not None and offered.pk == first.pk
    first = reload(first)
    assert (first.status, first.offered_at, first.offer_expires_at) == (
        EntryStatus.OFFERED,
        at(10),
        at(70),
    )
    assert reload(second).status == EntryStatus.WAITING
    note = Notification.objects.get(user=first.client)
    assert (note.kind, note.source, note.url, note.data, note.title) == (
        "queue_turn",
        f"queue:{first.pk}:offer",
        "/queue",
        {"entry_id": first.pk},
        # In the client's language (the default, Portuguese).
        "Sua vez com Helena",
    )


def test_an_offer_makes_the_professional_busy() -> None:
    # Given a free professional with a client in line
    pro, call = busy_professional()
    join(pro)
    end_call(call)

    # When the turn is offered
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # Then calls shows them busy
    assert ProfessionalProfile.objects.get(user=pro).status == ProfessionalStatus.BUSY


def test_the_offer_publishes_the_entry_and_the_queue(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    # Given a free professional with a client in line
    pro, call = busy_professional()
    entry = join(pro)
    end_call(call)

    # When the turn is offered
    with committed():
        services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # Then the client hears about their offer and the professional about the queue
    events = [(group, event) for group, event, _data in queue_events(published)]
    assert events == [
        (f"user.{entry.client_id}", "queueing.entry.updated"),
        (f"user.{pro.pk}", "queueing.queue.changed"),
    ]
    data = queue_events(published)[0][2]
    assert (data["status"], data["position"], data["estimated_wait_seconds"]) == ("offered", 1, 0)
    assert data["offer_expires_at"] == "2025-03-10T14:01:10Z"


@pytest.mark.parametrize(
    "state", ["in_a_call", "switch_off", "offline", "offer_outstanding", "nobody_waiting"]
)
def test_no_offer_is_made_when_the_professional_cannot_take_the_next(state: str) -> None:
    # Given a professional with a client in line, in the given state
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    if state != "in_a_call":
        end_call(call)
    if state == "switch_off":
        ProfessionalProfile.objects.filter(user=pro).update(accepting_calls=False)
    if state == "offline":
        ProfessionalProfile.objects.filter(user=pro).update(status=ProfessionalStatus.OFFLINE)
    if state == "offer_outstanding":
        services.queue_offer_next(professional_id=pro.pk, now=at(5))
    if state == "nobody_waiting":
        services.queue_leave(client=first.client, entry_id=first.pk, now=at(3))
        services.queue_leave(client=second.client, entry_id=second.pk, now=at(4))
    before = snapshot()

    # When the next turn is asked for
    offered = services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # Then nothing is offered and nothing changed
    assert offered is None
    assert snapshot() == before


@pytest.mark.parametrize("state", ["waiting", "expired", "left"])
def test_accepting_or_declining_a_turn_not_open_is_refused(state: str) -> None:
    # Given a client whose entry is waiting, has an offer past its window, or left
    pro, call = busy_professional()
    entry = join(pro)
    if state != "waiting":
        end_call(call)
        services.queue_offer_next(professional_id=pro.pk, now=at(10))
    if state == "left":
        services.queue_leave(client=entry.client, entry_id=entry.pk, now=at(20))
    before = snapshot()

    # When they try to take or pass the turn at 100s
    for command in (services.queue_offer_accept, services.queue_offer_decline):
        with pytest.raises(ApplicationError) as refused:
            command(client=entry.client, entry_id=entry.pk, now=at(100))
        # Then it is refused, nothing changed
        assert refused.value.code == "queueing.offer_not_open"
        assert refused.value.status_code == 409
    assert snapshot() == before


def test_another_clients_entry_does_not_exist_for_them() -> None:
    # Given a client offered the turn and another client
    pro, call = busy_professional()
    entry = join(pro)
    other = join(pro, seconds=1).client
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    before = snapshot()

    # When the other client tries every command on it
    for command in (
        services.queue_leave,
        services.queue_offer_accept,
        services.queue_offer_decline,
    ):
        with pytest.raises(ApplicationError) as refused:
            command(client=other, entry_id=entry.pk, now=at(20))
        # Then it is not found, nothing changed
        assert (refused.value.code, refused.value.status_code) == ("not_found", 404)
    assert snapshot() == before


def test_a_client_in_another_call_cannot_take_the_turn() -> None:
    # Given a client offered a turn who meanwhile is in a call with someone else
    pro, call = busy_professional()
    entry = join(pro)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    _other, other_call = busy_professional()
    Call.objects.filter(pk=other_call.pk).update(client=entry.client)
    before = snapshot()

    # When they try to take the turn
    with pytest.raises(ApplicationError) as refused:
        services.queue_offer_accept(client=entry.client, entry_id=entry.pk, now=at(20))

    # Then it is refused
    assert refused.value.code == "queueing.in_call"
    assert snapshot() == before


# --- Signals from calls and the tasks they start ------------------------------------------------


def test_the_professional_freed_signal_offers_the_next_turn() -> None:
    # Given a professional whose call just ended, with a client in line
    pro, call = busy_professional()
    entry = join(pro)
    end_call(call)

    # When calls says the professional is free
    with committed():
        professional_freed.send(sender=None, professional_id=pro.pk)

    # Then the client is offered the turn
    assert reload(entry).status == EntryStatus.OFFERED


def test_the_professional_went_offline_signal_closes_their_queue() -> None:
    # Given a professional with a client in line who goes offline
    pro, _call = busy_professional()
    entry = join(pro)
    ProfessionalProfile.objects.filter(user=pro).update(
        accepting_calls=False, status=ProfessionalStatus.OFFLINE
    )

    # When calls says so
    with committed():
        professional_went_offline.send(sender=None, professional_id=pro.pk)

    # Then the entry is cancelled
    assert reload(entry).status == EntryStatus.CANCELLED


def test_the_tasks_can_run_twice_without_harm() -> None:
    # Given a professional free with two clients in line
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)

    # When the offer task runs twice
    assert tasks.offer_next(pro.pk) == first.pk
    assert tasks.offer_next(pro.pk) is None

    # Then only the first is offered
    assert (reload(first).status, reload(second).status) == (
        EntryStatus.OFFERED,
        EntryStatus.WAITING,
    )
    assert Notification.objects.filter(kind="queue_turn").count() == 1


def test_ending_a_real_call_offers_the_turn_to_the_first_in_line() -> None:
    # Given a professional in a call placed through the services, with a client in line
    from calls import services as calls_services
    from calls.tests.factories import live_call

    started = live_call(CallStatus.ACTIVE)
    entry = join(started.professional)

    # When the call is hung up
    with committed():
        calls_services.call_hangup(call_id=started.pk, user=started.client)

    # Then the first in line is offered the turn
    assert reload(entry).status == EntryStatus.OFFERED
