"""Billing of calls: unit 1 at start, the periodic pass, catch-up, low balance, pause/resume,
settling, and the queue hold becoming the minimum hold."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction

from accounts.tests.helpers import committed
from calls import billing
from calls.models import Call, CallStatus, EndReason
from calls.tests import factories
from queueing.models import EntryStatus, MarketplaceQueueEntry
from realtime import publish
from wallet import ledger
from wallet.models import AccountKind, Hold, HoldKind, HoldStatus, Transfer

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 1, 5, 12, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def accepted_call(
    *, balance: int = 100, price: int = 5, minimum_fee: int = 10, unit: int = 60
) -> Call:
    """An accepted call with its minimum held, as call_accept leaves it."""
    payer = factories.client(balance=balance)
    pro = factories.professional(price=price, online=False)
    call = Call.objects.create(
        client=payer,
        professional=pro,
        status=CallStatus.ACCEPTED,
        price_per_minute=price,
        minimum_fee=minimum_fee,
        billing_unit_seconds=unit,
        requested_at=T0,
        ringing_at=T0,
        answered_at=T0,
    )
    billing.hold_minimum(call=call)
    return call


def connect(call: Call, now: datetime.datetime = T0) -> bool:
    """Both sides connected: the call becomes active and billing starts (as H1's service does)."""
    with transaction.atomic():
        call.status = CallStatus.ACTIVE
        call.connected_at = now
        call.client_connected = call.professional_connected = True
        call.save()
        return billing.start(call=call, now=now)


def active_call(**kwargs: Any) -> Call:
    call = accepted_call(**kwargs)
    assert connect(call)
    return call


def hold_status(hold_id: int | None) -> str:
    assert hold_id is not None
    return Hold.objects.get(pk=hold_id).status


def wallet(call: Call) -> tuple[int, int]:
    account = ledger.account_for_user(user=call.client, kind=AccountKind.CLIENT_WALLET)
    return account.balance, account.held


def earned(call: Call) -> int:
    return ledger.account_for_user(
        user=call.professional, kind=AccountKind.EARNINGS_PENDING
    ).balance


def charges(call: Call) -> list[tuple[str, int, dict[str, Any]]]:
    return list(
        Transfer.objects.filter(reference=call.reference)
        .order_by("pk")
        .values_list("idempotency_key", "amount", "metadata")
    )


def billing_state(call: Call) -> dict[str, Any]:
    call.refresh_from_db()
    return {
        "status": call.status,
        "billed_units": call.billed_units,
        "billed_amount": call.billed_amount,
        "connected_seconds": call.connected_seconds,
        "segment_started_at": call.segment_started_at,
        "next_charge_at": call.next_charge_at,
    }


def events(published: list[tuple[str, dict[str, Any]]], name: str) -> list[tuple[str, Any]]:
    return [(group, message["data"]) for group, message in published if message["event"] == name]


# --- hold_minimum -----------------------------------------------------------------------------


def test_hold_minimum_holds_the_minimum_fee_once() -> None:
    call = accepted_call(balance=50, minimum_fee=10)

    again = billing.hold_minimum(call=call)

    call.refresh_from_db()
    assert call.minimum_hold_id == again.pk
    assert (again.amount, again.kind, again.status, again.idempotency_key, again.reference) == (
        10,
        HoldKind.CALL_MINIMUM,
        HoldStatus.PENDING,
        f"call:{call.pk}:minimum",
        f"call:{call.pk}",
    )
    assert wallet(call) == (50, 10)


def queued(*, balance: int, fee: int = 5) -> tuple[Call, MarketplaceQueueEntry]:
    payer = factories.client(balance=balance)
    pro = factories.professional(price=5, online=False)
    hold = ledger.hold_create(
        account=ledger.account_for_user(user=payer, kind=AccountKind.CLIENT_WALLET),
        amount=fee,
        kind=HoldKind.QUEUE_FEE,
        idempotency_key="queue-test-hold",
    )
    entry = MarketplaceQueueEntry.objects.create(
        professional=pro, client=payer, status=EntryStatus.OFFERED, fee=fee, hold=hold
    )
    call = Call.objects.create(
        client=payer,
        professional=pro,
        status=CallStatus.ACCEPTED,
        price_per_minute=5,
        minimum_fee=10,
        billing_unit_seconds=60,
        queue_entry=entry,
    )
    return call, entry


def test_a_queue_hold_becomes_the_minimum_hold() -> None:
    # Given a client with 12 tokens, 5 of them held by their queue entry
    call, entry = queued(balance=12, fee=5)

    # When the call from the queue holds its minimum
    hold = billing.hold_minimum(call=call)

    # Then the queue hold is voided and the minimum (10) held: the fee counted toward it
    assert hold_status(entry.hold_id) == HoldStatus.VOIDED
    assert (hold.amount, hold.status) == (10, HoldStatus.PENDING)
    assert wallet(call) == (12, 10)


def test_a_queue_hold_stays_when_the_minimum_cannot_be_held() -> None:
    # Given a client with 8 tokens, 5 held by the queue: 8 < the minimum of 10
    call, entry = queued(balance=8, fee=5)

    # When the minimum is held
    with pytest.raises(ledger.InsufficientFundsError), transaction.atomic():
        billing.hold_minimum(call=call)

    # Then nothing changed: the queue hold is still pending, no minimum hold exists
    assert hold_status(entry.hold_id) == HoldStatus.PENDING
    assert not Hold.objects.filter(kind=HoldKind.CALL_MINIMUM).exists()
    call.refresh_from_db()
    assert call.minimum_hold_id is None
    assert wallet(call) == (8, 5)


# --- start ------------------------------------------------------------------------------------


def test_start_posts_the_minimum_hold_and_charges_the_rest_of_unit_1(published: Any) -> None:
    # Given an accepted call at 15 a minute, minimum 10, the client with 100
    call = accepted_call(balance=100, price=15, minimum_fee=10)

    # When both sides connect
    with committed():
        assert connect(call)

    # Then unit 1 (15) is the posted hold (10, 85/15) plus 5 charged from the wallet
    hold_id = call.minimum_hold_id
    meta = {"call_id": call.pk, "unit": 1}
    assert charges(call) == [
        (f"call:{call.pk}:unit:1#0", 4, {"share": "professional", **meta}),
        (f"call:{call.pk}:unit:1#1", 1, {"share": "platform", **meta}),
        (f"hold:{hold_id}:post#0", 8, {"share": "professional", **meta}),
        (f"hold:{hold_id}:post#1", 2, {"share": "platform", **meta}),
    ]
    assert hold_status(hold_id) == HoldStatus.POSTED
    assert wallet(call) == (85, 0)
    assert earned(call) == 12
    assert billing_state(call) == {
        "status": CallStatus.ACTIVE,
        "billed_units": 1,
        "billed_amount": 15,
        "connected_seconds": 0,
        "segment_started_at": T0,
        "next_charge_at": at(60),
    }
    billed = events(published, "calls.call.billed")
    data = {
        "call_id": call.pk,
        "billed_units": 1,
        "billed_amount": 15,
        "next_charge_at": "2026-01-05T12:01:00Z",
        "connected_seconds": 0,
    }
    assert billed == [(f"user.{call.client_id}", data), (f"user.{call.professional_id}", data)]
    assert events(published, "calls.call.low_balance") == []


def test_start_at_a_price_below_the_minimum_only_posts_the_hold() -> None:
    call = active_call(balance=100, price=3, minimum_fee=10)

    assert [key for key, _amount, _meta in charges(call)] == [
        f"hold:{call.minimum_hold_id}:post#0",
        f"hold:{call.minimum_hold_id}:post#1",
    ]
    assert wallet(call) == (90, 0)
    assert billing_state(call)["billed_amount"] == 10


def test_start_that_cannot_pay_unit_1_still_takes_the_minimum() -> None:
    # Given a client with 12: the hold (10) and 2 beyond it, unit 1 costs 15
    call = accepted_call(balance=12, price=15, minimum_fee=10)

    # When both sides connect
    assert connect(call) is False

    # Then the minimum is taken (a connected call costs it), nothing else, no unit billed
    assert [amount for _key, amount, _meta in charges(call)] == [8, 2]
    assert wallet(call) == (2, 0)
    state = billing_state(call)
    assert (state["billed_units"], state["billed_amount"], state["next_charge_at"]) == (0, 10, None)


def test_start_warns_at_once_when_unit_2_cannot_be_paid(published: Any) -> None:
    call = accepted_call(balance=15, price=10, minimum_fee=10)

    with committed():
        assert connect(call)

    assert events(published, "calls.call.low_balance") == [
        (
            f"user.{call.client_id}",
            {"call_id": call.pk, "ends_at": "2026-01-05T12:01:00Z", "available": 5},
        )
    ]
    call.refresh_from_db()
    assert call.low_balance_warned_at == T0


# --- the pass ---------------------------------------------------------------------------------


def test_the_pass_charges_a_unit_when_it_starts_and_not_before(settings: Any) -> None:
    settings.CALLS_BILLING_UNIT_SECONDS = 5
    call = active_call(
        balance=100, price=5, minimum_fee=5, unit=settings.CALLS_BILLING_UNIT_SECONDS
    )

    early = billing.bill_due_calls(now=at(4.999))
    assert (early.calls, early.charges) == (0, 0)
    assert billing_state(call)["billed_units"] == 1

    due = billing.bill_due_calls(now=at(5))

    assert (due.calls, due.charges, due.amount, due.ended) == (1, 1, 5, 0)
    assert billing_state(call) == {
        "status": CallStatus.ACTIVE,
        "billed_units": 2,
        "billed_amount": 10,
        "connected_seconds": 0,
        "segment_started_at": T0,
        "next_charge_at": at(10),
    }
    assert [key for key, _amount, _meta in charges(call)][-2:] == [
        f"call:{call.pk}:unit:2#0",
        f"call:{call.pk}:unit:2#1",
    ]
    assert charges(call)[-1][2] == {"share": "platform", "call_id": call.pk, "unit": 2}
    assert wallet(call) == (90, 0)

    # And running the pass again at the same moment charges nothing more
    again = billing.bill_due_calls(now=at(9))
    assert (again.calls, again.charges) == (0, 0)
    assert wallet(call) == (90, 0)


def test_a_late_pass_catches_up_every_started_unit(published: Any) -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)

    with committed():
        outcome = billing.bill_due_calls(now=at(185))

    assert (outcome.charges, outcome.amount) == (3, 15)
    state = billing_state(call)
    assert (state["billed_units"], state["billed_amount"], state["next_charge_at"]) == (
        4,
        20,
        at(240),
    )
    assert [meta["unit"] for _key, _amount, meta in charges(call)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert wallet(call) == (80, 0)
    # One billed event per participant with the state after the catch-up.
    billed = events(published, "calls.call.billed")
    assert [data["billed_units"] for _group, data in billed] == [4, 4]
    assert billed[0][1]["connected_seconds"] == 185


def test_units_inside_the_minimum_cost_nothing() -> None:
    # 3 a minute, minimum 10: units 1-3 are the minimum, unit 4 adds 2, unit 5 adds 3
    call = active_call(balance=100, price=3, minimum_fee=10, unit=60)

    outcome = billing.bill_due_calls(now=at(240))

    assert (outcome.charges, outcome.amount) == (4, 5)
    state = billing_state(call)
    assert (state["billed_units"], state["billed_amount"]) == (5, 15)
    assert [(meta["unit"], amount) for _key, amount, meta in charges(call)] == [
        (1, 8),
        (1, 2),
        (4, 1),
        (4, 1),
        (5, 2),
        (5, 1),
    ]
    assert wallet(call) == (85, 0)


def test_low_balance_is_warned_then_the_call_ends_at_the_boundary(
    published: Any, settings: Any
) -> None:
    settings.CALLS_BILLING_UNIT_SECONDS = 60
    # Given a client with 30 at 10 a minute (minimum 10): three units
    call = active_call(balance=30, price=10, minimum_fee=10, unit=60)

    # When unit 2 is charged: 10 left, enough for unit 3: no warning
    with committed():
        billing.bill_due_calls(now=at(60))
    assert events(published, "calls.call.low_balance") == []

    # When unit 3 is charged: nothing left for unit 4, the client is warned
    with committed():
        warned = billing.bill_due_calls(now=at(121))
    assert (warned.charges, warned.warned, warned.ended) == (1, 1, 0)
    assert events(published, "calls.call.low_balance") == [
        (
            f"user.{call.client_id}",
            {"call_id": call.pk, "ends_at": "2026-01-05T12:03:00Z", "available": 0},
        )
    ]
    call.refresh_from_db()
    assert call.low_balance_warned_at == at(121)

    # When the pass runs two seconds after the boundary of unit 4
    published.clear()
    with committed():
        ended = billing.bill_due_calls(now=at(182))

    # Then the call ended at the boundary, paid for exactly the time it had
    assert (ended.charges, ended.ended) == (0, 1)
    call.refresh_from_db()
    assert (call.status, call.end_reason, call.ended_at) == (
        CallStatus.ENDED,
        EndReason.BALANCE_EXHAUSTED,
        at(180),
    )
    assert (call.billed_units, call.billed_amount, call.connected_seconds) == (3, 30, 180)
    assert (call.segment_started_at, call.next_charge_at) == (None, None)
    assert wallet(call) == (0, 0)
    assert events(published, "calls.call.billed") == []
    assert [data["status"] for _g, data in events(published, "calls.call.updated")] == [
        "ended",
        "ended",
    ]


def test_a_top_up_after_the_warning_keeps_the_call_going() -> None:
    call = active_call(balance=20, price=10, minimum_fee=10, unit=60)
    billing.bill_due_calls(now=at(60))
    factories.fund(call.client, 10)

    outcome = billing.bill_due_calls(now=at(120))

    assert (outcome.charges, outcome.ended) == (1, 0)
    assert billing_state(call)["status"] == CallStatus.ACTIVE


def test_the_pass_ignores_calls_that_are_not_active_or_paused() -> None:
    accepted = accepted_call(balance=100)
    paused = active_call(balance=100)
    billing.pause(call=paused, now=at(30))
    before = (billing_state(accepted), billing_state(paused))

    outcome = billing.bill_due_calls(now=at(600))

    assert (outcome.calls, outcome.charges) == (0, 0)
    assert (billing_state(accepted), billing_state(paused)) == before


def test_the_pass_works_in_batches() -> None:
    calls = [active_call(balance=100, price=5, minimum_fee=5, unit=60) for _ in range(5)]

    outcome = billing.bill_due_calls(now=at(60), batch_size=2)

    assert (outcome.calls, outcome.charges, outcome.batches) == (5, 5, 3)
    assert [billing_state(call)["billed_units"] for call in calls] == [2, 2, 2, 2, 2]


# --- pause and resume -------------------------------------------------------------------------


def test_pause_stops_the_clock_and_resume_restarts_it_where_it_stopped() -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)

    billing.pause(call=call, now=at(30))
    assert billing_state(call) | {} == {
        "status": CallStatus.ACTIVE,
        "billed_units": 1,
        "billed_amount": 5,
        "connected_seconds": 30,
        "segment_started_at": None,
        "next_charge_at": None,
    }
    # Paused for 70 seconds: nothing is due.
    assert billing.bill_due_calls(now=at(99)).charges == 0

    billing.resume(call=call, now=at(100))
    state = billing_state(call)
    assert (state["segment_started_at"], state["next_charge_at"]) == (at(100), at(130))
    assert billing.bill_due_calls(now=at(129)).charges == 0
    assert billing.bill_due_calls(now=at(130)).charges == 1
    assert billing_state(call)["billed_units"] == 2


def test_resume_after_the_paid_time_ran_out_charges_at_once() -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)
    billing.pause(call=call, now=at(60))  # the pass had not charged unit 2 yet

    with transaction.atomic():
        billing.resume(call=call, now=at(200))

    state = billing_state(call)
    assert (state["billed_units"], state["billed_amount"]) == (2, 10)
    assert (state["connected_seconds"], state["next_charge_at"]) == (60, at(260))


def test_resume_that_cannot_pay_ends_the_call() -> None:
    call = active_call(balance=5, price=5, minimum_fee=5, unit=60)
    billing.pause(call=call, now=at(60))

    with transaction.atomic():
        billing.resume(call=call, now=at(200))

    # The caller's own object shows the end (it publishes and returns it).
    assert call.status == CallStatus.ENDED
    call.refresh_from_db()
    assert (call.status, call.end_reason, call.ended_at) == (
        CallStatus.ENDED,
        EndReason.BALANCE_EXHAUSTED,
        at(200),
    )
    assert (call.billed_units, call.connected_seconds) == (1, 60)


# --- settle -----------------------------------------------------------------------------------


def test_settle_closes_the_segment_and_charges_nothing_more_mid_unit() -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)
    billing.bill_due_calls(now=at(60))

    with transaction.atomic():
        billing.settle(call=call, at=at(90))

    state = billing_state(call)
    assert (state["billed_units"], state["connected_seconds"]) == (2, 90)
    assert (state["segment_started_at"], state["next_charge_at"]) == (None, None)
    assert wallet(call) == (90, 0)


def test_settle_charges_a_unit_that_started_before_the_end() -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)

    with transaction.atomic():
        billing.settle(call=call, at=at(61))

    state = billing_state(call)
    assert (state["billed_units"], state["billed_amount"], state["connected_seconds"]) == (
        2,
        10,
        61,
    )


def test_settle_at_the_exact_boundary_charges_nothing() -> None:
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)

    with transaction.atomic():
        billing.settle(call=call, at=at(60))

    assert billing_state(call)["billed_units"] == 1
    assert wallet(call) == (95, 0)


def test_settle_of_a_call_that_never_connected_voids_the_minimum_hold() -> None:
    call = accepted_call(balance=50, minimum_fee=10)

    with transaction.atomic():
        billing.settle(call=call, at=at(10))

    assert hold_status(call.minimum_hold_id) == HoldStatus.VOIDED
    assert wallet(call) == (50, 0)
    assert charges(call) == []


def test_a_large_batch_sends_its_events_in_one_go_after_commit(monkeypatch: Any) -> None:
    # Given the bulk path taken from the first event
    monkeypatch.setattr(billing, "BULK_EVENTS_FROM", 1)
    sent: list[list[tuple[str, dict[str, Any]]]] = []
    monkeypatch.setattr(publish, "_send_many", sent.append)
    call = active_call(balance=100, price=5, minimum_fee=5, unit=60)

    # When the pass charges unit 2
    with committed():
        billing.bill_due_calls(now=at(60))

    # Then one send carries the wallet events and the billed events, encoded as
    # publish_on_commit encodes them
    [messages] = sent
    assert [(group, message["event"]) for group, message in messages] == [
        (f"user.{call.client_id}", "wallet.balance.changed"),
        (f"user.{call.professional_id}", "wallet.balance.changed"),
        (f"user.{call.client_id}", "calls.call.billed"),
        (f"user.{call.professional_id}", "calls.call.billed"),
    ]
    _group, message = messages[2]
    assert message["type"] == "realtime.event"
    assert message["data"] == {
        "call_id": call.pk,
        "billed_units": 2,
        "billed_amount": 10,
        "next_charge_at": "2026-01-05T12:02:00Z",
        "connected_seconds": 60,
    }
    assert messages[0][1]["data"] == {
        "account": "client_wallet",
        "asset": "token",
        "balance": 90,
        "held": 0,
        "available": 90,
    }


def test_the_bulk_send_reaches_the_channel_layer() -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if not isinstance(layer, InMemoryChannelLayer):
        pytest.skip("receiving outside a consumer needs the in-memory layer")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user.424242", channel)
    message = {"type": "realtime.event", "event": "x", "data": {}, "text": "{}"}

    publish._send_many([("user.424242", message)])

    received = async_to_sync(layer.receive)(channel)
    assert received["event"] == "x"
