"""Joining a busy professional's queue: the fee held with the entry, or nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from calls.models import ProfessionalProfile, ProfessionalStatus
from calls.tests.factories import client, professional
from core.exceptions import ApplicationError
from queueing import selectors, services
from queueing.models import EntryStatus, MarketplaceQueueEntry
from queueing.tests.helpers import (
    at,
    balance,
    busy_professional,
    committed,
    join,
    live_call_row,
    queue_events,
    snapshot,
)
from wallet.models import Hold, HoldKind, HoldStatus

pytestmark = pytest.mark.django_db


def test_join_creates_a_waiting_entry_holding_the_queue_fee(settings: Any) -> None:
    # Given a professional in a call and a client with 100 tokens
    settings.QUEUE_FEE = 5
    pro, _call = busy_professional()
    person = client(balance=100)

    # When the client joins the queue
    entry = services.queue_join(client=person, professional_id=pro.pk, now=at(0))

    # Then the entry waits first in line, and 5 tokens are held for it
    entry.refresh_from_db()
    assert (entry.status, entry.fee, entry.client_id, entry.professional_id) == (
        EntryStatus.WAITING,
        5,
        person.pk,
        pro.pk,
    )
    assert entry.joined_at == at(0)
    hold = Hold.objects.get(idempotency_key=f"queue:{entry.pk}:fee")
    assert (hold.amount, hold.kind, hold.status, hold.idempotency_key, hold.reference) == (
        5,
        HoldKind.QUEUE_FEE,
        HoldStatus.PENDING,
        f"queue:{entry.pk}:fee",
        f"queue:{entry.pk}",
    )
    assert balance(person) == (100, 5)
    assert selectors.entry_position(entry) == 1


def test_join_publishes_the_entry_to_the_client_and_the_length_to_the_professional(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    # Given a professional in a call with one client waiting already
    pro, _call = busy_professional()
    first = join(pro, seconds=0)
    person = client()

    # When a second client joins
    with committed():
        entry = services.queue_join(client=person, professional_id=pro.pk, now=at(10))

    # Then the second client gets their entry (2nd, one call ahead plus the live one) and the
    # professional the new length; the first client's place did not change, so they hear nothing
    events = queue_events(published)
    assert [(group, event) for group, event, _data in events] == [
        (f"user.{person.pk}", "queueing.entry.updated"),
        (f"user.{pro.pk}", "queueing.queue.changed"),
    ]
    data = events[0][2]
    assert data == {
        "id": entry.pk,
        "professional": {"id": pro.pk, "display_name": pro.get_full_name(), "avatar_url": None},
        "status": "waiting",
        "fee": 5,
        "position": 2,
        "estimated_wait_seconds": 2 * 600,
        "joined_at": "2025-03-10T14:00:10Z",
        "offered_at": None,
        "offer_expires_at": None,
        "call_id": None,
    }
    assert events[1][2] == {"professional_id": pro.pk, "length": 2}
    assert first.client_id not in {int(group.split(".")[1]) for group, _e, _d in events}


def test_join_when_people_wait_but_nobody_is_in_a_call_still_queues() -> None:
    # Given a professional out of their call whose line already has an offered turn
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    call.delete()
    services.queue_offer_next(professional_id=pro.pk, now=at(5))

    # When another client joins
    entry = join(pro, seconds=10)

    # Then they wait second, behind the offered turn
    assert MarketplaceQueueEntry.objects.get(pk=first.pk).status == EntryStatus.OFFERED
    assert (entry.status, selectors.entry_position(entry)) == (EntryStatus.WAITING, 2)


# --- Refusals: nothing written, nothing published ----------------------------------------------


def _self(pro: User) -> tuple[User, int]:
    return pro, pro.pk


def _unverified(pro: User) -> tuple[User, int]:
    return client(email_verified_at=None), pro.pk


def _no_profile(pro: User) -> tuple[User, int]:
    return client(), client().pk


def _unlisted(pro: User) -> tuple[User, int]:
    ProfessionalProfile.objects.filter(user=pro).update(is_listed=False)
    return client(), pro.pk


def _switch_off(pro: User) -> tuple[User, int]:
    ProfessionalProfile.objects.filter(user=pro).update(accepting_calls=False)
    return client(), pro.pk


def _status_offline(pro: User) -> tuple[User, int]:
    ProfessionalProfile.objects.filter(user=pro).update(status=ProfessionalStatus.OFFLINE)
    return client(), pro.pk


def _free(pro: User) -> tuple[User, int]:
    free = professional()
    return client(), free.pk


def _twice(pro: User) -> tuple[User, int]:
    person = client()
    join(pro, who=person)
    return person, pro.pk


def _client_in_call(pro: User) -> tuple[User, int]:
    other = professional()
    call = live_call_row(other)
    return call.client, pro.pk


def _full(pro: User) -> tuple[User, int]:
    join(pro)
    join(pro, seconds=1)
    return client(), pro.pk


def _poor(pro: User) -> tuple[User, int]:
    return client(balance=4), pro.pk


REFUSALS: list[tuple[Callable[[User], tuple[User, int]], int, str]] = [
    (_self, 422, "queueing.self_queue"),
    (_unverified, 403, "accounts.email_not_verified"),
    (_no_profile, 404, "queueing.professional_not_found"),
    (_unlisted, 404, "queueing.professional_not_found"),
    (_switch_off, 409, "queueing.professional_offline"),
    (_status_offline, 409, "queueing.professional_offline"),
    (_free, 409, "queueing.professional_available"),
    (_twice, 409, "queueing.already_in_queue"),
    (_client_in_call, 409, "queueing.in_call"),
    (_full, 409, "queueing.queue_full"),
    (_poor, 409, "wallet.insufficient_funds"),
]


@pytest.mark.parametrize(
    ("arrange", "status", "code"), REFUSALS, ids=lambda v: getattr(v, "__name__", v)
)
def test_a_refused_join_writes_and_publishes_nothing(
    settings: Any,
    published: list[tuple[str, dict[str, Any]]],
    arrange: Callable[[User], tuple[User, int]],
    status: int,
    code: str,
) -> None:
    # Given a busy professional (queue of at most 2, fee 5) and the case's client
    settings.QUEUE_MAX_LENGTH = 2
    settings.QUEUE_FEE = 5
    pro, _call = busy_professional()
    person, professional_id = arrange(pro)
    before = snapshot()

    # When the client tries to join
    with committed(), pytest.raises(ApplicationError) as refused:
        services.queue_join(client=person, professional_id=professional_id, now=at(60))

    # Then the error says why, and no entry, hold, transfer, notification or event exists
    assert (refused.value.status_code, refused.value.code) == (status, code)
    assert snapshot() == before
    assert queue_events(published) == []


def test_two_open_entries_of_one_client_are_refused_by_the_database() -> None:
    # Given a client waiting in a professional's queue
    pro, _call = busy_professional()
    entry = join(pro)

    # When a second open entry for the same pair is written directly
    # Then the partial unique constraint refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        MarketplaceQueueEntry.objects.create(
            professional=pro, client=entry.client, fee=5, status=EntryStatus.WAITING
        )


def test_a_join_that_loses_the_race_to_the_constraint_is_already_in_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a client waiting, and a join whose own check does not see that entry (as a
    # concurrent join's would not before it commits)
    pro, _call = busy_professional()
    person = client()
    join(pro, who=person)
    real = selectors.open_entries
    monkeypatch.setattr(
        selectors,
        "open_entries",
        lambda *, professional_id: real(professional_id=professional_id).exclude(
            client_id=person.pk
        ),
    )
    before = snapshot()

    # When the client joins again
    with pytest.raises(ApplicationError) as refused:
        services.queue_join(client=person, professional_id=pro.pk, now=at(30))

    # Then the constraint's refusal is the clear error, and nothing more was written
    assert refused.value.code == "queueing.already_in_queue"
    assert snapshot() == before


def test_leaving_and_joining_again_opens_a_new_entry_at_the_end() -> None:
    # Given a client who joined and left a professional's queue behind another client
    pro, _call = busy_professional()
    person = client()
    join(pro, seconds=0)
    first = join(pro, who=person, seconds=1)
    services.queue_leave(client=person, entry_id=first.pk, now=at(2))

    # When they join again
    again = join(pro, who=person, seconds=3)

    # Then a new entry holds a new fee, at the end of the line
    assert again.pk != first.pk
    assert (again.status, selectors.entry_position(again)) == (EntryStatus.WAITING, 2)
    assert balance(person) == (100, 5)
