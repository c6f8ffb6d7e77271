"""Every way out of the queue settles the held fee exactly once, the way it should."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call, CallStatus, ProfessionalProfile, ProfessionalStatus
from chat.models import Notification
from core.exceptions import ApplicationError
from queueing import services
from queueing.models import EntryStatus
from queueing.tests.helpers import (
    at,
    balance,
    busy_professional,
    end_call,
    hold_status,
    join,
    reload,
    snapshot,
)
from wallet.models import AccountKind, Hold, HoldKind, HoldStatus, Transfer, TransferKind

pytestmark = pytest.mark.django_db


def test_leaving_while_waiting_voids_the_hold() -> None:
    # Given a client waiting with 5 of their 100 tokens held
    pro, _call = busy_professional()
    entry = join(pro)

    # When they leave
    left = services.queue_leave(client=entry.client, entry_id=entry.pk, now=at(30))

    # Then the entry is left, the hold voided and all 100 tokens available again
    assert (left.status, left.resolved_at) == (EntryStatus.LEFT, at(30))
    assert hold_status(entry) == HoldStatus.VOIDED
    assert balance(entry.client) == (100, 0)
    assert Transfer.objects.filter(reference=f"queue:{entry.pk}").count() == 0


def test_leaving_while_offered_voids_the_hold_and_offers_the_next() -> None:
    # Given two clients in line and the first offered the turn
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the offered client leaves
    services.queue_leave(client=first.client, entry_id=first.pk, now=at(20))

    # Then their hold is voided and the second is offered the turn
    assert (reload(first).status, hold_status(first)) == (EntryStatus.LEFT, HoldStatus.VOIDED)
    assert balance(first.client) == (100, 0)
    assert (reload(second).status, reload(second).offered_at) == (EntryStatus.OFFERED, at(20))
    assert hold_status(second) == HoldStatus.PENDING


def test_declining_an_offer_voids_the_hold_and_offers_the_next() -> None:
    # Given two clients in line and the first offered the turn
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the offered client passes
    declined = services.queue_offer_decline(client=first.client, entry_id=first.pk, now=at(15))

    # Then they are out with nothing charged, and the second has the turn
    assert declined.status == EntryStatus.LEFT
    assert hold_status(first) == HoldStatus.VOIDED
    assert balance(first.client) == (100, 0)
    assert reload(second).status == EntryStatus.OFFERED


def test_an_offer_not_taken_in_time_is_refunded_by_default(settings: Any) -> None:
    # Given the refund policy and a client offered the turn at 10s for 60s, another behind
    settings.QUEUE_NO_SHOW_FEE = "refund"
    settings.QUEUE_OFFER_SECONDS = 60
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    second = join(pro, seconds=1)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the expiry sweep runs at 70s
    expired = services.queue_offers_expire(now=at(70))

    # Then the offer expired, its hold was voided (no transfer) and the second has the turn
    assert expired == 1
    assert (reload(first).status, reload(first).resolved_at) == (EntryStatus.EXPIRED, at(70))
    assert hold_status(first) == HoldStatus.VOIDED
    assert balance(first.client) == (100, 0)
    assert Transfer.objects.filter(reference=f"queue:{first.pk}").count() == 0
    assert (reload(second).status, reload(second).offered_at) == (EntryStatus.OFFERED, at(70))


def test_an_offer_not_taken_in_time_is_charged_85_15_when_the_setting_says_so(
    settings: Any,
) -> None:
    # Given the charge policy, a fee of 5 and a client whose offer ran out
    settings.QUEUE_NO_SHOW_FEE = "charge"
    settings.QUEUE_FEE = 5
    pro, call = busy_professional()
    first = join(pro, seconds=0)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the expiry sweep runs after the window
    services.queue_offers_expire(now=at(71))

    # Then the hold is posted: 4 to the professional's clearing, 1 to the platform
    hold = Hold.objects.get(idempotency_key=f"queue:{first.pk}:fee")
    assert (hold.status, hold.posted_amount) == (HoldStatus.POSTED, 5)
    legs = list(
        Transfer.objects.filter(reference=f"queue:{first.pk}")
        .order_by("pk")
        .values_list("credit_account__kind", "credit_account__user_id", "amount", "kind")
    )
    assert legs == [
        (AccountKind.EARNINGS_PENDING, pro.pk, 4, TransferKind.QUEUE_FEE),
        (AccountKind.PLATFORM_REVENUE, None, 1, TransferKind.QUEUE_FEE),
    ]
    assert balance(first.client) == (95, 0)


def test_an_offer_inside_its_window_is_not_expired() -> None:
    # Given an offer made at 10s for 60s
    pro, call = busy_professional()
    first = join(pro)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    before = snapshot()

    # When the sweep runs at 69s
    expired = services.queue_offers_expire(now=at(69))

    # Then nothing changed
    assert expired == 0
    assert snapshot() == before
    assert reload(first).status == EntryStatus.OFFERED


def test_leaving_after_the_window_closed_is_an_expiry(settings: Any) -> None:
    # Given the charge policy and an offer whose window closed before the sweep ran
    settings.QUEUE_NO_SHOW_FEE = "charge"
    pro, call = busy_professional()
    first = join(pro)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When the client leaves late
    left = services.queue_leave(client=first.client, entry_id=first.pk, now=at(80))

    # Then the turn expired as the sweep would have: the fee is charged, not dodged
    assert left.status == EntryStatus.EXPIRED
    assert hold_status(first) == HoldStatus.POSTED
    assert balance(first.client) == (95, 0)


def test_the_professional_going_offline_cancels_every_entry_and_voids_every_hold() -> None:
    # Given a professional with one offered turn and two clients waiting, who goes offline
    pro, call = busy_professional()
    entries = [join(pro, seconds=n) for n in range(3)]
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    ProfessionalProfile.objects.filter(user=pro).update(
        accepting_calls=False, status=ProfessionalStatus.OFFLINE
    )

    # When their queue is closed
    closed = services.queue_close_for_professional(professional_id=pro.pk, now=at(20))

    # Then every entry is cancelled, every hold voided, every client told
    assert closed == 3
    for entry in entries:
        assert (reload(entry).status, hold_status(entry)) == (
            EntryStatus.CANCELLED,
            HoldStatus.VOIDED,
        )
        assert balance(entry.client) == (100, 0)
        assert Notification.objects.filter(
            user=entry.client, source=f"queue:{entry.pk}:closed"
        ).exists()


def test_a_professional_back_online_keeps_their_queue() -> None:
    # Given a professional who went offline and came back before the close ran
    pro, _call = busy_professional()
    entry = join(pro)
    before = snapshot()

    # When the close runs
    closed = services.queue_close_for_professional(professional_id=pro.pk, now=at(20))

    # Then nothing is closed
    assert closed == 0
    assert snapshot() == before
    assert hold_status(entry) == HoldStatus.PENDING


def test_accepting_the_offer_turns_the_fee_into_part_of_the_call_minimum(settings: Any) -> None:
    # Given a fee of 5, a minimum of 10 and a client offered the turn
    settings.QUEUE_FEE = 5
    settings.CALLS_MINIMUM_FEE = 10
    pro, call = busy_professional()
    first = join(pro)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))

    # When they take the turn inside the window
    entry, started = services.queue_offer_accept(client=first.client, entry_id=first.pk, now=at(30))

    # Then the call is accepted, the queue hold voided and the call's minimum (10) held
    assert entry.status == EntryStatus.ACCEPTED
    started = Call.objects.get(pk=started.pk)
    assert (started.status, started.queue_entry_id, started.client_id, started.professional_id) == (
        CallStatus.ACCEPTED,
        first.pk,
        first.client_id,
        pro.pk,
    )
    assert hold_status(first) == HoldStatus.VOIDED
    minimum = Hold.objects.get(idempotency_key=f"call:{started.pk}:minimum")
    assert (minimum.kind, minimum.amount, minimum.status) == (
        HoldKind.CALL_MINIMUM,
        10,
        HoldStatus.PENDING,
    )
    assert balance(first.client) == (100, 10)


def test_accepting_without_the_minimum_changes_nothing(settings: Any) -> None:
    # Given a client with 8 tokens (fee 5 held) offered the turn, and a minimum of 10
    settings.QUEUE_FEE = 5
    settings.CALLS_MINIMUM_FEE = 10
    pro, call = busy_professional()
    first = join(pro, balance=8)
    end_call(call)
    services.queue_offer_next(professional_id=pro.pk, now=at(10))
    before = snapshot()

    # When they try to take the turn
    with pytest.raises(ApplicationError) as refused:
        services.queue_offer_accept(client=first.client, entry_id=first.pk, now=at(30))

    # Then it is refused and the offer (with its held fee) is as it was
    assert refused.value.code == "wallet.insufficient_funds"
    assert snapshot() == before
    assert Call.objects.filter(queue_entry=first).count() == 0


def test_leaving_twice_is_refused_and_moves_nothing() -> None:
    # Given a client waiting, who leaves twice (a retried request)
    pro, _call = busy_professional()
    entry = join(pro)
    services.queue_leave(client=entry.client, entry_id=entry.pk, now=at(5))
    before = snapshot()

    # When they leave again
    with pytest.raises(ApplicationError) as refused:
        services.queue_leave(client=entry.client, entry_id=entry.pk, now=at(6))

    # Then it is refused and nothing moves
    assert (refused.value.code, refused.value.extra) == (
        "queueing.not_in_queue",
        {"status": "left"},
    )
    assert snapshot() == before
    assert balance(entry.client) == (100, 0)
