"""The call lifecycle: request, ring, accept, connect, pause, end; and professionals' status.

State machine (anything else is ``calls.invalid_transition`` and changes nothing)::

    requested → ringing            inside call_request (both timestamps set)
    ringing   → accepted           professional accepts (minimum fee held)
    ringing   → rejected           professional declines (or hangs up while it rings)
    ringing   → missed             ring_deadline passed (calls_sweep)
    ringing   → cancelled          client cancels (or hangs up while it rings)
    ringing   → failed             the client cannot pay the minimum at accept
    accepted  → active             both sides reported media connected (billing starts)
    accepted  → cancelled          either side hangs up before the media connected
    accepted  → failed             connect_deadline passed (calls_sweep)
    active    → ended              hang-up, balance exhausted, or a side gone past its grace

Locks: the call's row first, then (inside billing) the wallet's accounts, then the
professional's profile. ``call_finish`` is the one way to a final status. Events go out after
commit; signals (``calls.signals``) are sent from ``on_commit`` callbacks.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status as http

from accounts.models import AccountType
from accounts.policies import Action, require
from calls import events, signals

# One "only professionals" error for the whole app (profile edits and the switch alike).
from calls.catalog import NotProfessionalError
from calls.models import (
    FINAL_STATUSES,
    LIVE_STATUSES,
    Call,
    CallStatus,
    EndReason,
    ProfessionalProfile,
    ProfessionalStatus,
)
from core.exceptions import ApplicationError, NotFoundError
from realtime.publish import revoke_topic_on_commit

if TYPE_CHECKING:
    from queueing.models import MarketplaceQueueEntry

logger = logging.getLogger(__name__)


# --- errors ------------------------------------------------------------------------------------


class SelfCallError(ApplicationError):
    code = "calls.self_call"
    status_code = http.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = gettext_lazy("You cannot call yourself.")


class ProfessionalNotFoundError(ApplicationError):
    code = "calls.professional_not_found"
    status_code = http.HTTP_404_NOT_FOUND
    default_message = gettext_lazy("This professional does not exist.")


class ProfessionalOfflineError(ApplicationError):
    code = "calls.professional_offline"
    status_code = http.HTTP_409_CONFLICT
    default_message = gettext_lazy("This professional is not taking calls right now.")


class ProfessionalBusyError(ApplicationError):
    code = "calls.professional_busy"
    status_code = http.HTTP_409_CONFLICT
    default_message = gettext_lazy("This professional is busy. You can join their queue.")


class AlreadyInCallError(ApplicationError):
    code = "calls.already_in_call"
    status_code = http.HTTP_409_CONFLICT
    default_message = gettext_lazy("You are already in a call.")


class InsufficientBalanceError(ApplicationError):
    code = "calls.insufficient_balance"
    status_code = http.HTTP_409_CONFLICT
    default_message = gettext_lazy("Not enough balance to start this call. Top up first.")


class InvalidTransitionError(ApplicationError):
    code = "calls.invalid_transition"
    status_code = http.HTTP_409_CONFLICT
    default_message = gettext_lazy("This call cannot do that now.")


def _refuse(call: Call) -> InvalidTransitionError:
    return InvalidTransitionError(extra={"status": call.status})


# --- helpers -----------------------------------------------------------------------------------


def _seconds(value: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


def _lock_call(call_id: int, user: Any) -> Call:
    """The call's row, locked; 404 when it does not exist or ``user`` is not in it."""
    call = (
        Call.objects.select_for_update()
        .filter(Q(client_id=user.pk) | Q(professional_id=user.pk), pk=call_id)
        .first()
    )
    if call is None:
        raise NotFoundError()
    return call


def _lock_profile(professional_id: int) -> ProfessionalProfile | None:
    return ProfessionalProfile.objects.select_for_update().filter(user_id=professional_id).first()


def _required_to_start(*, price: int, minimum_fee: int) -> int:
    from calls import billing

    return int(billing.required_to_start(price=price, minimum_fee=minimum_fee))


def _available(user: Any) -> int:
    from wallet import ledger
    from wallet.models import AccountKind

    account = ledger.account_find(user=user, kind=AccountKind.CLIENT_WALLET)
    return account.available if account is not None else 0


def _open_queue_length(professional_id: int) -> int:
    from queueing.models import OPEN_STATUSES, MarketplaceQueueEntry

    return MarketplaceQueueEntry.objects.filter(
        professional_id=professional_id, status__in=OPEN_STATUSES
    ).count()


def _client_queued(*, client_id: int, professional_id: int) -> bool:
    from queueing.models import OPEN_STATUSES, MarketplaceQueueEntry

    return MarketplaceQueueEntry.objects.filter(
        professional_id=professional_id, client_id=client_id, status__in=OPEN_STATUSES
    ).exists()


def _has_live_call(user_id: int) -> bool:
    return Call.objects.filter(
        Q(client_id=user_id) | Q(professional_id=user_id), status__in=LIVE_STATUSES
    ).exists()


def _busy_error(*, client_id: int, profile: ProfessionalProfile) -> ProfessionalBusyError:
    length = _open_queue_length(profile.user_id)
    can_queue = (
        profile.accepting_calls
        and length < settings.QUEUE_MAX_LENGTH
        and not _client_queued(client_id=client_id, professional_id=profile.user_id)
    )
    return ProfessionalBusyError(extra={"can_queue": can_queue, "queue_length": length})


def _notify_professional(call: Call) -> None:
    from chat.notifications import notification_create

    professional = call.professional
    with translation.override(professional.language):
        title = _("Incoming call from %(name)s") % {"name": call.client.get_full_name()}
    notification_create(
        user_id=professional.pk,
        kind="call",
        source=f"call:{call.pk}",
        title=title,
        url=f"/calls/{call.pk}",
        data={"call_id": call.pk},
        actor_id=call.client_id,
    )


def _insert_call(**fields: Any) -> Call:
    """Create a live call; the partial unique indexes settle races (busy / already in a call)."""
    try:
        with transaction.atomic():
            return Call.objects.create(**fields)
    except IntegrityError:
        if Call.objects.filter(
            professional_id=fields["professional"].pk, status__in=LIVE_STATUSES
        ).exists():
            raise ProfessionalBusyError(extra={"can_queue": False, "queue_length": 0}) from None
        raise AlreadyInCallError() from None


# --- requesting a call -------------------------------------------------------------------------


def call_request(*, client: Any, professional_id: int) -> Call:
    """Ring a professional: checks who may call whom, copies the prices, notifies them."""
    if client.pk == professional_id:
        raise SelfCallError()
    require(client, Action.START_CALL)
    now = timezone.now()
    with transaction.atomic():
        profile = (
            ProfessionalProfile.objects.select_for_update()
            .filter(
                user_id=professional_id,
                is_listed=True,
                user__is_active=True,
                user__account_type=AccountType.PROFESSIONAL,
            )
            .first()
        )
        if profile is None:
            raise ProfessionalNotFoundError()
        if _status_of(profile, now=now) == ProfessionalStatus.OFFLINE:
            raise ProfessionalOfflineError()
        if _has_live_call(professional_id) or _open_queue_length(professional_id) > 0:
            raise _busy_error(client_id=client.pk, profile=profile)
        if _has_live_call(client.pk):
            raise AlreadyInCallError()
        minimum_fee = settings.CALLS_MINIMUM_FEE
        required = _required_to_start(price=profile.price_per_minute, minimum_fee=minimum_fee)
        available = _available(client)
        if available < required:
            raise InsufficientBalanceError(extra={"required": required, "available": available})
        call = _insert_call(
            client=client,
            professional=profile.user,
            status=CallStatus.RINGING,
            media_path=settings.CALLS_MEDIA_PATH,
            price_per_minute=profile.price_per_minute,
            minimum_fee=minimum_fee,
            billing_unit_seconds=settings.CALLS_BILLING_UNIT_SECONDS,
            requested_at=now,
            ringing_at=now,
            ring_deadline=now + _seconds(settings.CALLS_RING_SECONDS),
        )
        _refresh_locked(profile, now=now)
        _notify_professional(call)
        events.call_updated(call)
    return call


def call_start_from_queue(*, entry: MarketplaceQueueEntry) -> Call:
    """Start the call of a queue turn the client took: straight to ``accepted``.

    Runs inside the caller's transaction with ``entry`` locked. The entry's queue hold becomes
    the minimum hold (``billing.hold_minimum``); InsufficientFundsError propagates.
    """
    from calls import billing

    now = timezone.now()
    with transaction.atomic():
        profile = _lock_profile(entry.professional_id)
        if profile is None:
            raise ProfessionalNotFoundError()
        call = _insert_call(
            client=entry.client,
            professional=profile.user,
            status=CallStatus.ACCEPTED,
            media_path=settings.CALLS_MEDIA_PATH,
            price_per_minute=profile.price_per_minute,
            minimum_fee=settings.CALLS_MINIMUM_FEE,
            billing_unit_seconds=settings.CALLS_BILLING_UNIT_SECONDS,
            queue_entry=entry,
            requested_at=now,
            ringing_at=now,
            answered_at=now,
            connect_deadline=now + _seconds(settings.CALLS_CONNECT_TIMEOUT_SECONDS),
        )
        hold = billing.hold_minimum(call=call)
        if call.minimum_hold_id != hold.pk:
            call.minimum_hold = hold
            call.save(update_fields=["minimum_hold", "updated_at"])
        _refresh_locked(profile, now=now)
        _notify_professional(call)
        events.call_updated(call)
    return call


# --- the participants' commands ----------------------------------------------------------------


def call_accept(*, call_id: int, user: Any) -> Call:
    """The professional answers: the minimum fee is held, the media has until the deadline.

    A client who cannot pay the minimum any more fails the call (``insufficient_funds``).
    """
    from calls import billing
    from wallet.ledger import InsufficientFundsError

    now = timezone.now()
    with transaction.atomic():
        call = _lock_call(call_id, user)
        if call.status != CallStatus.RINGING or user.pk != call.professional_id:
            raise _refuse(call)
        try:
            with transaction.atomic():
                hold = billing.hold_minimum(call=call)
        except InsufficientFundsError:
            return call_finish(
                call=call, status=CallStatus.FAILED, reason=EndReason.INSUFFICIENT_FUNDS, at=now
            )
        call.minimum_hold = hold
        call.status = CallStatus.ACCEPTED
        call.answered_at = now
        call.connect_deadline = now + _seconds(settings.CALLS_CONNECT_TIMEOUT_SECONDS)
        call.save(
            update_fields=[
                "minimum_hold",
                "status",
                "answered_at",
                "connect_deadline",
                "updated_at",
            ]
        )
        events.call_updated(call)
    return call


def call_reject(*, call_id: int, user: Any) -> Call:
    """The professional declines a ringing call."""
    with transaction.atomic():
        call = _lock_call(call_id, user)
        if call.status != CallStatus.RINGING or user.pk != call.professional_id:
            raise _refuse(call)
        return call_finish(
            call=call, status=CallStatus.REJECTED, reason=EndReason.DECLINED, at=timezone.now()
        )


def call_cancel(*, call_id: int, user: Any) -> Call:
    """The client gives up before the media connected (ringing or accepted)."""
    with transaction.atomic():
        call = _lock_call(call_id, user)
        if (
            call.status not in (CallStatus.RINGING, CallStatus.ACCEPTED)
            or user.pk != call.client_id
        ):
            raise _refuse(call)
        return call_finish(
            call=call, status=CallStatus.CANCELLED, reason=EndReason.CANCELLED, at=timezone.now()
        )


def call_hangup(*, call_id: int, user: Any) -> Call:
    """Either side hangs up: ends an active call, cancels one still connecting; while it rings,
    the client's hang-up cancels it and the professional's declines it."""
    with transaction.atomic():
        call = _lock_call(call_id, user)
        is_client = user.pk == call.client_id
        now = timezone.now()
        hung_up = EndReason.CLIENT_HUNG_UP if is_client else EndReason.PROFESSIONAL_HUNG_UP
        if call.status == CallStatus.ACTIVE:
            return call_finish(call=call, status=CallStatus.ENDED, reason=hung_up, at=now)
        if call.status == CallStatus.ACCEPTED:
            return call_finish(call=call, status=CallStatus.CANCELLED, reason=hung_up, at=now)
        if call.status == CallStatus.RINGING:
            if is_client:
                return call_finish(
                    call=call, status=CallStatus.CANCELLED, reason=EndReason.CANCELLED, at=now
                )
            return call_finish(
                call=call, status=CallStatus.REJECTED, reason=EndReason.DECLINED, at=now
            )
        raise _refuse(call)


def call_media_report(
    *, call_id: int, user: Any, connected: bool, now: datetime.datetime | None = None
) -> Call:
    """One side says its media is (not) connected.

    Both connected while ``accepted``: the call becomes ``active`` and billing starts (a
    client who cannot pay the first unit ends it at once, ``balance_exhausted``). While
    ``active``: a side dropping pauses billing and gives it ``CALLS_DISCONNECT_GRACE_SECONDS``
    to come back (``disconnect_deadline``); coming back in time resumes billing. A report that
    changes nothing publishes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        call = _lock_call(call_id, user)
        if call.status not in (CallStatus.ACCEPTED, CallStatus.ACTIVE):
            raise _refuse(call)
        return _media_change(call, user_id=user.pk, connected=connected, now=now)


def _media_change(call: Call, *, user_id: int, connected: bool, now: datetime.datetime) -> Call:
    """Apply one side's media state to a locked accepted/active call."""
    from calls import billing

    field = "client_connected" if user_id == call.client_id else "professional_connected"
    if getattr(call, field) == connected:
        return call
    was_both = call.client_connected and call.professional_connected
    setattr(call, field, connected)
    both = call.client_connected and call.professional_connected
    if call.status == CallStatus.ACCEPTED:
        if not both:
            call.save(update_fields=[field, "updated_at"])
            events.call_updated(call)
            return call
        call.status = CallStatus.ACTIVE
        call.connected_at = now
        call.save(update_fields=[field, "status", "connected_at", "updated_at"])
        if not billing.start(call=call, now=now):
            return call_finish(
                call=call, status=CallStatus.ENDED, reason=EndReason.BALANCE_EXHAUSTED, at=now
            )
        events.call_updated(call)
        return call
    # Active.
    if was_both and not both:
        call.disconnect_deadline = now + _seconds(settings.CALLS_DISCONNECT_GRACE_SECONDS)
        call.save(update_fields=[field, "disconnect_deadline", "updated_at"])
        billing.pause(call=call, now=now)
    elif both and not was_both:
        call.disconnect_deadline = None
        call.save(update_fields=[field, "disconnect_deadline", "updated_at"])
        billing.resume(call=call, now=now)
        if call.status in FINAL_STATUSES:
            # Billing could not pay for the time resumed and ended the call itself.
            return call
    else:
        call.save(update_fields=[field, "updated_at"])
    events.call_updated(call)
    return call


# --- the end of a call -------------------------------------------------------------------------


def call_finish(*, call: Call, status: str, reason: str, at: datetime.datetime) -> Call:
    """Bring a live call to a final ``status``: the one way there.

    The caller holds the call's row lock inside a transaction. Settles the billing (voids what
    is still held), updates the professional's stats for an ended call, publishes, and after
    commit sends ``call_ended`` and ``professional_freed``.
    """
    from calls import billing

    if status not in FINAL_STATUSES:
        raise ValueError(f"{status} is not a final status")
    if call.status in FINAL_STATUSES:
        raise _refuse(call)
    with transaction.atomic():
        billing.settle(call=call, at=at)
        call.status = status
        call.end_reason = reason
        call.ended_at = at
        call.disconnect_deadline = None
        call.save(
            update_fields=["status", "end_reason", "ended_at", "disconnect_deadline", "updated_at"]
        )
        profile = _lock_profile(call.professional_id)
        if profile is not None:
            if status == CallStatus.ENDED:
                seconds = call.connected_seconds
                done = profile.calls_completed
                profile.average_call_seconds = round(
                    (profile.average_call_seconds * done + seconds) / (done + 1)
                )
                profile.calls_completed = done + 1
                profile.save(
                    update_fields=["calls_completed", "average_call_seconds", "updated_at"]
                )
            _refresh_locked(profile, now=timezone.now(), send_freed=False)
        events.call_updated(call)
        topic = f"calls.call.{call.pk}"
        revoke_topic_on_commit(call.client_id, topic)
        revoke_topic_on_commit(call.professional_id, topic)
        call_id, professional_id, end_reason = call.pk, call.professional_id, reason
        transaction.on_commit(
            lambda: signals.call_ended.send(
                sender=Call, call_id=call_id, status=status, end_reason=end_reason
            )
        )
        transaction.on_commit(
            lambda: signals.professional_freed.send(sender=Call, professional_id=professional_id)
        )
    return call


def _skip_locked(queryset: QuerySet[Call]) -> QuerySet[Call]:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def calls_sweep(*, now: datetime.datetime | None = None) -> int:
    """End calls whose clock ran out: unanswered (missed), media never connected (failed,
    ``media_timeout``), a side gone past its grace (ended, ``disconnected``).

    Each call in its own transaction; a call another worker holds is left for the next pass.
    Returns how many calls were ended.
    """
    now = now or timezone.now()
    due = (
        Q(status=CallStatus.RINGING, ring_deadline__lte=now)
        | Q(status=CallStatus.ACCEPTED, connect_deadline__lte=now)
        | Q(status=CallStatus.ACTIVE, disconnect_deadline__lte=now)
    )
    ids = list(Call.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:1000])
    ended = 0
    for call_id in ids:
        try:
            with transaction.atomic():
                call = _skip_locked(Call.objects.filter(due, pk=call_id)).first()
                if call is None:
                    continue
                if call.status == CallStatus.RINGING:
                    assert call.ring_deadline is not None
                    call_finish(
                        call=call,
                        status=CallStatus.MISSED,
                        reason=EndReason.NO_ANSWER,
                        at=call.ring_deadline,
                    )
                elif call.status == CallStatus.ACCEPTED:
                    assert call.connect_deadline is not None
                    call_finish(
                        call=call,
                        status=CallStatus.FAILED,
                        reason=EndReason.MEDIA_TIMEOUT,
                        at=call.connect_deadline,
                    )
                else:
                    assert call.disconnect_deadline is not None
                    call_finish(
                        call=call,
                        status=CallStatus.ENDED,
                        reason=EndReason.DISCONNECTED,
                        at=call.disconnect_deadline,
                    )
                ended += 1
        except Exception:
            logger.exception("calls sweep failed for a call", extra={"call_id": call_id})
    return ended


def call_side_disconnected(*, user_id: int, now: datetime.datetime | None = None) -> Call | None:
    """The user's last socket closed: their side of a connecting or active call is down (the
    same path as a media report of ``connected=False``)."""
    now = now or timezone.now()
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(
                Q(client_id=user_id, client_connected=True)
                | Q(professional_id=user_id, professional_connected=True),
                status__in=(CallStatus.ACCEPTED, CallStatus.ACTIVE),
            )
            .first()
        )
        if call is None:
            return None
        return _media_change(call, user_id=user_id, connected=False, now=now)


# --- professionals' status ---------------------------------------------------------------------


def _fresh_connections(now: datetime.datetime) -> Q:
    return Q(last_seen_at__gte=now - _seconds(settings.PRESENCE_TIMEOUT_SECONDS))


def _present(profile: ProfessionalProfile, *, now: datetime.datetime) -> bool:
    """Whether the professional counts as connected: a socket is open, or the last one closed
    less than CALLS_OFFLINE_AFTER_SECONDS ago."""
    from chat.models import PresenceConnection

    if profile.presence_lost_at is not None:
        return now - profile.presence_lost_at < _seconds(settings.CALLS_OFFLINE_AFTER_SECONDS)
    return PresenceConnection.objects.filter(
        _fresh_connections(now), user_id=profile.user_id
    ).exists()


def _status_of(
    profile: ProfessionalProfile, *, now: datetime.datetime, present: bool | None = None
) -> str:
    from queueing.models import EntryStatus, MarketplaceQueueEntry

    if present is None:
        present = _present(profile, now=now)
    if not profile.accepting_calls or not present:
        return ProfessionalStatus.OFFLINE
    if (
        Call.objects.filter(professional_id=profile.user_id, status__in=LIVE_STATUSES).exists()
        or MarketplaceQueueEntry.objects.filter(
            professional_id=profile.user_id, status=EntryStatus.OFFERED
        ).exists()
    ):
        return ProfessionalStatus.BUSY
    return ProfessionalStatus.ONLINE


def _refresh_locked(
    profile: ProfessionalProfile,
    *,
    now: datetime.datetime,
    send_freed: bool = True,
    present: bool | None = None,
) -> str:
    """Recompute a locked profile's status; publish and signal when it changed."""
    new = _status_of(profile, now=now, present=present)
    old = profile.status
    if new == old:
        return new
    profile.status = new
    profile.status_changed_at = now
    profile.save(update_fields=["status", "status_changed_at", "updated_at"])
    events.professional_status_changed(profile)
    professional_id = profile.user_id
    if new == ProfessionalStatus.OFFLINE:
        transaction.on_commit(
            lambda: signals.professional_went_offline.send(
                sender=ProfessionalProfile, professional_id=professional_id
            )
        )
    elif new == ProfessionalStatus.ONLINE and send_freed:
        transaction.on_commit(
            lambda: signals.professional_freed.send(
                sender=ProfessionalProfile, professional_id=professional_id
            )
        )
    return new


def professional_status_refresh(
    *, professional_id: int, now: datetime.datetime | None = None
) -> str:
    """Recompute and store a professional's status (offline, busy, online).

    Offline when the switch is off or presence is gone; busy with a live call or a queue turn
    on offer; online otherwise. Publishes ``calls.professional.status`` when it changes; going
    offline sends ``professional_went_offline``, becoming online ``professional_freed`` (after
    commit). A user without a profile is offline.
    """
    now = now or timezone.now()
    with transaction.atomic():
        profile = _lock_profile(professional_id)
        if profile is None:
            return ProfessionalStatus.OFFLINE
        return _refresh_locked(profile, now=now)


def professional_accepting_set(*, user: Any, accepting: bool) -> ProfessionalProfile:
    """The professional's own switch: take calls now, or not."""
    now = timezone.now()
    with transaction.atomic():
        profile = _lock_profile(user.pk)
        if profile is None:
            raise NotProfessionalError()
        if profile.accepting_calls != accepting:
            profile.accepting_calls = accepting
            profile.save(update_fields=["accepting_calls", "updated_at"])
        _refresh_locked(profile, now=now)
        return profile


def professional_presence_gained(*, user_id: int, now: datetime.datetime | None = None) -> None:
    """A socket of ``user_id`` opened: a professional is present again."""
    now = now or timezone.now()
    with transaction.atomic():
        profile = _lock_profile(user_id)
        if profile is None:
            return
        if profile.presence_lost_at is not None:
            profile.presence_lost_at = None
            profile.save(update_fields=["presence_lost_at", "updated_at"])
        # The socket being opened may not be recorded yet (chat records it after us): it counts.
        _refresh_locked(profile, now=now, present=True)


def professional_presence_lost(*, user_id: int, now: datetime.datetime | None = None) -> None:
    """The last socket of ``user_id`` closed: start the offline countdown."""
    now = now or timezone.now()
    ProfessionalProfile.objects.filter(user_id=user_id, presence_lost_at__isnull=True).update(
        presence_lost_at=now, updated_at=now
    )


def professionals_sweep(*, now: datetime.datetime | None = None) -> int:
    """Professionals whose presence is gone past CALLS_OFFLINE_AFTER_SECONDS go offline
    (their last socket closed long enough ago, or their sockets stopped beating). Returns how
    many changed status."""
    from chat.models import PresenceConnection

    now = now or timezone.now()
    fresh = PresenceConnection.objects.filter(_fresh_connections(now), user_id=OuterRef("user_id"))
    gone = (
        ProfessionalProfile.objects.exclude(status=ProfessionalStatus.OFFLINE)
        .alias(has_socket=Exists(fresh))
        .filter(
            Q(presence_lost_at__lte=now - _seconds(settings.CALLS_OFFLINE_AFTER_SECONDS))
            | Q(presence_lost_at__isnull=True, has_socket=False)
            | Q(accepting_calls=False)
        )
    )
    ids = list(gone.order_by("user_id").values_list("user_id", flat=True))
    changed = 0
    for professional_id in ids:
        if professional_status_refresh(professional_id=professional_id, now=now) == (
            ProfessionalStatus.OFFLINE
        ):
            changed += 1
    return changed
