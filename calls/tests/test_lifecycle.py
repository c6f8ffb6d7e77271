"""The call state machine: requesting, answering, connecting, pausing and ending calls."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone, translation

from accounts.models import User
from accounts.tests.helpers import committed, rows
from calls import services, signals
from calls.events import call_payload
from calls.models import Call, CallStatus, EndReason, ProfessionalProfile, ProfessionalStatus
from calls.tests.factories import client, fund, live_call, professional, profile_of
from chat.models import Notification
from core.exceptions import ApplicationError, NotFoundError
from queueing.models import EntryStatus, MarketplaceQueueEntry
from wallet.models import Hold, HoldStatus, Transfer

pytestmark = pytest.mark.django_db

UPDATED = "calls.call.updated"
STATUS = "calls.professional.status"


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        "calls": rows(Call),
        "profiles": rows(ProfessionalProfile),
        "holds": rows(Hold),
        "transfers": rows(Transfer),
        "notifications": rows(Notification),
    }


@pytest.fixture
def sent_signals() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every calls signal sent, as (name, kwargs without sender/signal)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    receivers: list[tuple[Any, Callable[..., None]]] = []
    for name in ("call_ended", "professional_freed", "professional_went_offline"):
        signal = getattr(signals, name)

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            seen.append((_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield seen
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def as_json(call: Call) -> dict[str, Any]:
    """The call's payload as a socket receives it."""
    return json.loads(json.dumps(call_payload(call), cls=DjangoJSONEncoder))  # type: ignore[no-any-return]


def events(published: list[tuple[str, dict[str, Any]]], name: str) -> list[tuple[str, Any]]:
    return [(group, message["data"]) for group, message in published if message["event"] == name]


# --- requesting ---------------------------------------------------------------------------------


def test_request_rings_the_professional_and_tells_both(
    published: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    settings.CALLS_RING_SECONDS = 30
    payer = client(balance=100, display_name="Ana")
    pro = professional(price=7)

    with committed():
        call = services.call_request(client=payer, professional_id=pro.pk)

    call.refresh_from_db()
    assert call.status == CallStatus.RINGING
    assert call.requested_at == call.ringing_at
    assert call.ring_deadline == call.ringing_at + datetime.timedelta(seconds=30)
    assert (call.price_per_minute, call.minimum_fee, call.billing_unit_seconds) == (7, 10, 60)
    assert call.minimum_hold_id is None
    notification = Notification.objects.get(user=pro)
    assert (notification.kind, notification.source, notification.title) == (
        "call",
        f"call:{call.pk}",
        "Incoming call from Ana",
    )
    assert (notification.url, notification.data) == (f"/calls/{call.pk}", {"call_id": call.pk})
    payload = as_json(call)
    assert events(published, UPDATED) == [
        (f"user.{payer.pk}", payload),
        (f"user.{pro.pk}", payload),
    ]
    status = {"professional_id": pro.pk, "status": "busy", "accepting_calls": True}
    assert events(published, STATUS) == [("calls.catalog.all", status), (f"user.{pro.pk}", status)]
    assert profile_of(pro).status == ProfessionalStatus.BUSY


def test_request_notification_title_is_in_the_professionals_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The catalogs are the translators' business: what matters here is the language active
    # when the title is translated.
    monkeypatch.setattr(services, "_", lambda text: f"[{translation.get_language()}] {text}")
    payer = client(display_name="Ana", language="en")
    pro = professional(language="pt-br")

    with translation.override("en"):
        call = services.call_request(client=payer, professional_id=pro.pk)

    title = Notification.objects.get(user=pro, source=f"call:{call.pk}").title
    assert title == "[pt-br] Incoming call from Ana"


def _queue_entry(pro: User) -> int:
    MarketplaceQueueEntry.objects.create(
        professional=pro, client=client(), fee=5, status=EntryStatus.WAITING
    )
    return pro.pk


REQUEST_ERRORS: list[tuple[str, Callable[[User, User], Any], str, int, dict[str, Any]]] = [
    ("self", lambda payer, pro: payer.pk, "calls.self_call", 422, {}),
    ("no profile", lambda payer, pro: client().pk, "calls.professional_not_found", 404, {}),
    ("no such user", lambda payer, pro: 10**9, "calls.professional_not_found", 404, {}),
    (
        "not listed",
        lambda payer, pro: (
            ProfessionalProfile.objects.filter(user=pro).update(is_listed=False) and pro.pk
        ),
        "calls.professional_not_found",
        404,
        {},
    ),
    (
        "switch off",
        lambda payer, pro: (
            ProfessionalProfile.objects.filter(user=pro).update(accepting_calls=False) and pro.pk
        ),
        "calls.professional_offline",
        409,
        {},
    ),
    (
        "no socket",
        lambda payer, pro: pro.presence_connections.all().delete() and pro.pk,
        "calls.professional_offline",
        409,
        {},
    ),
    (
        "in a call",
        lambda payer, pro: live_call(professional_user=pro) and pro.pk,
        "calls.professional_busy",
        409,
        {"can_queue": True, "queue_length": 0},
    ),
    (
        "queue open",
        lambda payer, pro: _queue_entry(pro),
        "calls.professional_busy",
        409,
        {"can_queue": True, "queue_length": 1},
    ),
    (
        "caller in a call",
        lambda payer, pro: live_call(client_user=payer) and pro.pk,
        "calls.already_in_call",
        409,
        {},
    ),
    (
        "caller answering a call",
        lambda payer, pro: live_call(professional_user=payer) and pro.pk,
        "calls.already_in_call",
        409,
        {},
    ),
]


@pytest.mark.parametrize(
    ("case", "setup", "code", "status", "extra"),
    REQUEST_ERRORS,
    ids=[case[0] for case in REQUEST_ERRORS],
)
def test_request_refused(
    published: list[tuple[str, dict[str, Any]]],
    case: str,
    setup: Callable[[User, User], Any],
    code: str,
    status: int,
    extra: dict[str, Any],
) -> None:
    payer = client(balance=100)
    if case == "caller answering a call":
        payer = professional()
        fund(payer, 100)
    pro = professional()
    target = int(setup(payer, pro))
    before = snapshot()

    with committed(), pytest.raises(ApplicationError) as refused:
        services.call_request(client=payer, professional_id=target)

    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        code,
        status,
        extra,
    )
    assert snapshot() == before
    assert published == []


def test_request_refused_when_the_balance_cannot_pay_the_first_minute(
    published: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    payer = client(balance=11)
    pro = professional(price=12)
    before = snapshot()

    with committed(), pytest.raises(ApplicationError) as refused:
        services.call_request(client=payer, professional_id=pro.pk)

    assert (refused.value.code, refused.value.extra) == (
        "calls.insufficient_balance",
        {"required": 12, "available": 11},
    )
    assert snapshot() == before
    assert published == []


def test_request_refused_to_an_unverified_client(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    payer = client(phone_verified_at=None)
    pro = professional()
    before = snapshot()

    with committed(), pytest.raises(ApplicationError) as refused:
        services.call_request(client=payer, professional_id=pro.pk)

    assert refused.value.code == "accounts.phone_not_verified"
    assert refused.value.status_code == 403
    assert snapshot() == before
    assert published == []


# --- valid transitions --------------------------------------------------------------------------


def test_accept_holds_the_minimum_and_waits_for_media(
    published: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    settings.CALLS_CONNECT_TIMEOUT_SECONDS = 45
    call = live_call()

    with committed():
        accepted = services.call_accept(call_id=call.pk, user=call.professional)

    accepted.refresh_from_db()
    assert accepted.status == CallStatus.ACCEPTED
    assert accepted.answered_at is not None
    assert accepted.connect_deadline == accepted.answered_at + datetime.timedelta(seconds=45)
    hold = Hold.objects.get(pk=accepted.minimum_hold_id or 0)
    assert (hold.amount, hold.status, hold.reference) == (10, HoldStatus.PENDING, call.reference)
    payload = as_json(accepted)
    assert events(published, UPDATED) == [
        (f"user.{call.client_id}", payload),
        (f"user.{call.professional_id}", payload),
    ]


def test_accept_fails_the_call_when_the_client_cannot_hold_the_minimum(
    sent_signals: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    call = live_call()
    # The client spent the tokens while it rang.
    Call.objects.none()
    from wallet import ledger

    ledger.ledger_charge(
        client=call.client,
        professional=professional(),
        amount=95,
        reference="call:elsewhere",
        idempotency_key="spent-elsewhere",
    )

    with committed():
        failed = services.call_accept(call_id=call.pk, user=call.professional)

    failed.refresh_from_db()
    assert (failed.status, failed.end_reason) == (
        CallStatus.FAILED,
        EndReason.INSUFFICIENT_FUNDS,
    )
    assert failed.minimum_hold_id is None
    assert Hold.objects.filter(reference=call.reference).count() == 0
    assert sent_signals == [
        (
            "call_ended",
            {"call_id": call.pk, "status": "failed", "end_reason": "insufficient_funds"},
        ),
        ("professional_freed", {"professional_id": call.professional_id}),
    ]


@pytest.mark.parametrize(
    ("status", "action", "side", "final", "reason"),
    [
        ("ringing", "reject", "professional", "rejected", "declined"),
        ("ringing", "cancel", "client", "cancelled", "cancelled"),
        ("ringing", "hangup", "client", "cancelled", "cancelled"),
        ("ringing", "hangup", "professional", "rejected", "declined"),
        ("accepted", "cancel", "client", "cancelled", "cancelled"),
        ("accepted", "hangup", "client", "cancelled", "client_hung_up"),
        ("accepted", "hangup", "professional", "cancelled", "professional_hung_up"),
        ("active", "hangup", "client", "ended", "client_hung_up"),
        ("active", "hangup", "professional", "ended", "professional_hung_up"),
    ],
)
def test_ending_a_live_call(
    published: list[tuple[str, dict[str, Any]]],
    sent_signals: list[tuple[str, dict[str, Any]]],
    status: str,
    action: str,
    side: str,
    final: str,
    reason: str,
) -> None:
    call = live_call(status)
    user = call.client if side == "client" else call.professional
    published.clear()

    with committed():
        ended = getattr(services, f"call_{action}")(call_id=call.pk, user=user)

    ended.refresh_from_db()
    assert (ended.status, ended.end_reason) == (final, reason)
    assert ended.ended_at is not None
    # Nothing stays held once a call is over.
    assert list(Hold.objects.filter(status=HoldStatus.PENDING).values_list("id", flat=True)) == []
    payload = as_json(ended)
    assert events(published, UPDATED) == [
        (f"user.{call.client_id}", payload),
        (f"user.{call.professional_id}", payload),
    ]
    online = {"professional_id": call.professional_id, "status": "online", "accepting_calls": True}
    assert events(published, STATUS) == [
        ("calls.catalog.all", online),
        (f"user.{call.professional_id}", online),
    ]
    assert profile_of(call.professional).status == ProfessionalStatus.ONLINE
    assert sent_signals == [
        ("call_ended", {"call_id": call.pk, "status": final, "end_reason": reason}),
        ("professional_freed", {"professional_id": call.professional_id}),
    ]


def test_both_sides_connected_makes_the_call_active_and_bills_the_first_unit(
    published: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    call = live_call(CallStatus.ACCEPTED, price=12)
    now = timezone.now()

    with committed():
        first = services.call_media_report(
            call_id=call.pk, user=call.client, connected=True, now=now
        )
    assert (first.status, first.client_connected, first.professional_connected) == (
        CallStatus.ACCEPTED,
        True,
        False,
    )
    with committed():
        active = services.call_media_report(
            call_id=call.pk, user=call.professional, connected=True, now=now
        )

    active.refresh_from_db()
    assert active.status == CallStatus.ACTIVE
    assert active.connected_at == now
    assert (active.billed_units, active.billed_amount) == (1, 12)
    assert active.segment_started_at == now
    assert active.next_charge_at == now + datetime.timedelta(seconds=60)
    assert Hold.objects.get(pk=active.minimum_hold_id or 0).status == HoldStatus.POSTED
    updates = events(published, UPDATED)
    assert [data["status"] for _group, data in updates] == ["accepted"] * 2 + ["active"] * 2


def test_a_repeated_media_report_changes_nothing(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    call = live_call(CallStatus.ACCEPTED)
    services.call_media_report(call_id=call.pk, user=call.client, connected=True)
    before = snapshot()
    published.clear()

    with committed():
        services.call_media_report(call_id=call.pk, user=call.client, connected=True)

    assert snapshot() == before
    assert published == []


def test_media_connected_without_the_balance_for_the_first_unit_ends_the_call(
    settings: Any,
) -> None:
    settings.CALLS_MINIMUM_FEE = 10
    call = live_call(CallStatus.ACCEPTED, balance=20, price=20)
    from wallet import ledger

    ledger.ledger_charge(
        client=call.client,
        professional=professional(),
        amount=5,
        reference="call:elsewhere",
        idempotency_key="spent-elsewhere",
    )

    services.call_media_report(call_id=call.pk, user=call.client, connected=True)
    ended = services.call_media_report(call_id=call.pk, user=call.professional, connected=True)

    ended.refresh_from_db()
    assert (ended.status, ended.end_reason) == (CallStatus.ENDED, EndReason.BALANCE_EXHAUSTED)
    assert ended.ended_at == ended.connected_at


# --- invalid transitions ------------------------------------------------------------------------

STATUSES = ["ringing", "accepted", "active", "ended", "rejected", "cancelled", "missed", "failed"]
ACTIONS = ["accept", "reject", "cancel", "hangup", "media_on", "media_off"]
VALID = {
    ("ringing", "accept", "professional"),
    ("ringing", "reject", "professional"),
    ("ringing", "cancel", "client"),
    ("ringing", "hangup", "client"),
    ("ringing", "hangup", "professional"),
    ("accepted", "cancel", "client"),
    ("accepted", "hangup", "client"),
    ("accepted", "hangup", "professional"),
    *{
        (status, media, side)
        for status in ("accepted", "active")
        for media in ("media_on", "media_off")
        for side in ("client", "professional")
    },
    ("active", "hangup", "client"),
    ("active", "hangup", "professional"),
}
INVALID = [
    (status, action, side)
    for status in STATUSES
    for action in ACTIONS
    for side in ("client", "professional")
    if (status, action, side) not in VALID
]


def call_in(status: str) -> Call:
    """A call in any status, reached the way production reaches it."""
    if status == "missed":
        call = live_call(CallStatus.RINGING)
        assert call.ring_deadline is not None
        services.calls_sweep(now=call.ring_deadline)
    elif status == "failed":
        call = live_call(CallStatus.ACCEPTED)
        assert call.connect_deadline is not None
        services.calls_sweep(now=call.connect_deadline)
    else:
        call = live_call(status)
    call.refresh_from_db()
    assert call.status == status
    return call


def run(action: str, call: Call, user: User) -> Call:
    if action.startswith("media_"):
        return services.call_media_report(
            call_id=call.pk, user=user, connected=action == "media_on"
        )
    command: Callable[..., Call] = getattr(services, f"call_{action}")
    return command(call_id=call.pk, user=user)


@pytest.mark.parametrize(("status", "action", "side"), INVALID)
def test_invalid_transition_is_refused_and_changes_nothing(
    published: list[tuple[str, dict[str, Any]]], status: str, action: str, side: str
) -> None:
    call = call_in(status)
    user = call.client if side == "client" else call.professional
    before = snapshot()
    published.clear()

    with committed(), pytest.raises(services.InvalidTransitionError) as refused:
        run(action, call, user)

    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        "calls.invalid_transition",
        409,
        {"status": status},
    )
    assert snapshot() == before
    assert published == []


@pytest.mark.parametrize("action", ACTIONS)
def test_someone_elses_call_is_not_found(action: str) -> None:
    call = live_call(CallStatus.RINGING)
    outsider = client()
    before = snapshot()

    with pytest.raises(NotFoundError):
        run(action, call, outsider)

    assert snapshot() == before


# --- the clock ----------------------------------------------------------------------------------


def test_an_unanswered_call_is_missed_at_its_deadline(
    sent_signals: list[tuple[str, dict[str, Any]]],
) -> None:
    call = live_call()
    assert call.ring_deadline is not None

    assert services.calls_sweep(now=call.ring_deadline - datetime.timedelta(seconds=1)) == 0
    assert Call.objects.get(pk=call.pk).status == CallStatus.RINGING
    with committed():
        assert services.calls_sweep(now=call.ring_deadline) == 1

    call.refresh_from_db()
    assert (call.status, call.end_reason, call.ended_at) == (
        CallStatus.MISSED,
        EndReason.NO_ANSWER,
        call.ring_deadline,
    )
    assert sent_signals == [
        ("call_ended", {"call_id": call.pk, "status": "missed", "end_reason": "no_answer"}),
        ("professional_freed", {"professional_id": call.professional_id}),
    ]
    assert services.calls_sweep(now=call.ring_deadline + datetime.timedelta(hours=1)) == 0


def test_media_that_never_connects_fails_the_call_and_releases_the_hold() -> None:
    call = live_call(CallStatus.ACCEPTED)
    assert call.connect_deadline is not None

    assert services.calls_sweep(now=call.connect_deadline - datetime.timedelta(seconds=1)) == 0
    assert services.calls_sweep(now=call.connect_deadline) == 1

    call.refresh_from_db()
    assert (call.status, call.end_reason, call.ended_at) == (
        CallStatus.FAILED,
        EndReason.MEDIA_TIMEOUT,
        call.connect_deadline,
    )
    assert Hold.objects.get(pk=call.minimum_hold_id or 0).status == HoldStatus.VOIDED
    assert call.billed_amount == 0


def test_a_side_that_drops_pauses_the_call_and_resumes_within_the_grace(
    published: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_DISCONNECT_GRACE_SECONDS = 30
    start = timezone.now()
    call = live_call(CallStatus.ACTIVE, now=start)
    dropped = start + datetime.timedelta(seconds=20)
    back = dropped + datetime.timedelta(seconds=29)

    paused = services.call_media_report(
        call_id=call.pk, user=call.client, connected=False, now=dropped
    )
    paused.refresh_from_db()
    assert (paused.status, paused.client_connected) == (CallStatus.ACTIVE, False)
    assert paused.disconnect_deadline == dropped + datetime.timedelta(seconds=30)
    assert (paused.connected_seconds, paused.segment_started_at, paused.next_charge_at) == (
        20,
        None,
        None,
    )
    assert services.calls_sweep(now=back) == 0

    resumed = services.call_media_report(
        call_id=call.pk, user=call.client, connected=True, now=back
    )

    resumed.refresh_from_db()
    assert (resumed.status, resumed.disconnect_deadline) == (CallStatus.ACTIVE, None)
    assert resumed.segment_started_at == back
    assert resumed.next_charge_at == back + datetime.timedelta(seconds=40)
    assert services.calls_sweep(now=back + datetime.timedelta(hours=1)) == 0


def test_a_side_gone_past_the_grace_ends_the_call(
    sent_signals: list[tuple[str, dict[str, Any]]], settings: Any
) -> None:
    settings.CALLS_DISCONNECT_GRACE_SECONDS = 30
    start = timezone.now()
    call = live_call(CallStatus.ACTIVE, now=start)
    dropped = start + datetime.timedelta(seconds=20)
    services.call_media_report(
        call_id=call.pk, user=call.professional, connected=False, now=dropped
    )
    deadline = dropped + datetime.timedelta(seconds=30)

    assert services.calls_sweep(now=deadline - datetime.timedelta(seconds=1)) == 0
    with committed():
        assert services.calls_sweep(now=deadline) == 1

    call.refresh_from_db()
    assert (call.status, call.end_reason, call.ended_at) == (
        CallStatus.ENDED,
        EndReason.DISCONNECTED,
        deadline,
    )
    assert (call.connected_seconds, call.billed_units, call.disconnect_deadline) == (20, 1, None)
    profile = profile_of(call.professional)
    assert (profile.calls_completed, profile.average_call_seconds) == (1, 20)
    assert sent_signals == [
        ("call_ended", {"call_id": call.pk, "status": "ended", "end_reason": "disconnected"}),
        ("professional_freed", {"professional_id": call.professional_id}),
    ]


def test_ended_calls_keep_the_professionals_average_length() -> None:
    pro = professional()
    start = timezone.now() - datetime.timedelta(minutes=5)
    for seconds in (20, 40):
        call = live_call(CallStatus.ACTIVE, professional_user=pro, now=start)
        with transaction_atomic():
            locked = Call.objects.select_for_update().get(pk=call.pk)
            services.call_finish(
                call=locked,
                status=CallStatus.ENDED,
                reason=EndReason.CLIENT_HUNG_UP,
                at=start + datetime.timedelta(seconds=seconds),
            )
    # A call that never connected counts for nothing.
    live_call(CallStatus.CANCELLED, professional_user=pro)

    profile = profile_of(pro)
    assert (profile.calls_completed, profile.average_call_seconds) == (2, 30)


def transaction_atomic() -> Any:
    from django.db import transaction

    return transaction.atomic()


def test_call_finish_refuses_a_call_already_over() -> None:
    call = call_in("rejected")
    before = snapshot()

    with pytest.raises(services.InvalidTransitionError):
        services.call_finish(
            call=call, status=CallStatus.ENDED, reason=EndReason.CANCELLED, at=timezone.now()
        )

    assert snapshot() == before
