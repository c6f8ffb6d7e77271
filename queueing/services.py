"""The marketplace queue: clients waiting, with a held fee, for a busy professional.

The life of an entry::

    queue_join            waiting   the queue fee held (key queue:<id>:fee, reference queue:<id>)
    queue_offer_next      offered   the first in line gets QUEUE_OFFER_SECONDS to take the turn
    queue_offer_accept    accepted  the call starts (already accepted); calls.billing turns the
                                    held fee into part of the call's minimum hold
    queue_leave           left      the hold voided (any open entry)
    queue_offer_decline   left      the hold voided, the turn passes to the next
    queue_offers_expire   expired   QUEUE_NO_SHOW_FEE: "refund" voids the hold, "charge" posts
                                    it 85/15; the turn passes to the next
    queue_close_for_professional  cancelled  (the professional went offline) every hold voided

Locks, always in this order: the professional's ``ProfessionalProfile`` row (one lock per
professional, so joins, offers and departures from one line run one at a time), then the entry
row(s), then (inside ``wallet.ledger``) the hold and the wallet's accounts.

A position is never stored (see ``queueing.selectors``): leaving the line rewrites no other
row, and every client whose position moved is told through ``queueing.events``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AccountType, User
from accounts.policies import Action, require
from calls.models import ProfessionalProfile, ProfessionalStatus
from core.exceptions import ApplicationError, NotFoundError
from queueing import events, selectors
from queueing.models import OPEN_STATUSES, EntryStatus, MarketplaceQueueEntry
from wallet import ledger
from wallet.models import AccountKind, HoldKind, TransferKind

if TYPE_CHECKING:
    from calls.models import Call

NO_SHOW_REFUND = "refund"
NO_SHOW_CHARGE = "charge"


# --- Errors ------------------------------------------------------------------------------------


class SelfQueueError(ApplicationError):
    code = "queueing.self_queue"
    status_code = 422


class ProfessionalNotFoundError(NotFoundError):
    code = "queueing.professional_not_found"


class ProfessionalOfflineError(ApplicationError):
    code = "queueing.professional_offline"
    status_code = 409


class ProfessionalAvailableError(ApplicationError):
    code = "queueing.professional_available"
    status_code = 409


class AlreadyInQueueError(ApplicationError):
    code = "queueing.already_in_queue"
    status_code = 409


class QueueFullError(ApplicationError):
    code = "queueing.queue_full"
    status_code = 409


class InCallError(ApplicationError):
    code = "queueing.in_call"
    status_code = 409


class NotInQueueError(ApplicationError):
    code = "queueing.not_in_queue"
    status_code = 409


class OfferNotOpenError(ApplicationError):
    code = "queueing.offer_not_open"
    status_code = 409


# --- Helpers -----------------------------------------------------------------------------------


def _lock_profile(professional_id: int, *, skip_locked: bool = False) -> ProfessionalProfile | None:
    """The professional's profile row, locked: the per-professional lock of the queue."""
    return (
        ProfessionalProfile.objects.select_for_update(skip_locked=skip_locked)
        .filter(user_id=professional_id)
        .first()
    )


def _lock_entry(entry_id: int) -> MarketplaceQueueEntry:
    return (
        MarketplaceQueueEntry.objects.select_for_update(of=("self",))
        .select_related("professional")
        .get(pk=entry_id)
    )


def _entry_of_client(*, client: Any, entry_id: int) -> MarketplaceQueueEntry:
    """The client's entry (unlocked), or 404: someone else's entry does not exist for them."""
    entry = selectors.entry_get_for_client(client=client, entry_id=entry_id)
    if entry is None:
        raise NotFoundError()
    return entry


def _accepting(profile: ProfessionalProfile | None) -> bool:
    return (
        profile is not None
        and profile.accepting_calls
        and profile.status != ProfessionalStatus.OFFLINE
    )


def _refresh_status(professional_id: int) -> None:
    """Ask calls to recompute the professional's status (an offer makes them busy)."""
    from calls.services import professional_status_refresh

    professional_status_refresh(professional_id=professional_id)


def _release_hold(entry: MarketplaceQueueEntry) -> None:
    if entry.hold_id is not None:
        assert entry.hold is not None
        ledger.hold_void(hold=entry.hold)


def _close(entry: MarketplaceQueueEntry, status: str, now: datetime.datetime) -> None:
    """Move a locked open entry to a final status; its hold is the caller's business."""
    entry.status = status
    entry.resolved_at = now
    entry.save(update_fields=("status", "resolved_at", "updated_at"))


def _notify(entry: MarketplaceQueueEntry, *, event: str, title: Any, body: Any = "") -> None:
    """A notification (sound, browser notification) for the entry's client, in their language."""
    from chat.notifications import notification_create

    client = User.objects.only("language").get(pk=entry.client_id)
    name = entry.professional.get_full_name()
    with translation.override(client.language):
        notification_create(
            user_id=entry.client_id,
            kind="queue_turn" if event == "offer" else "queue",
            source=f"queue:{entry.pk}:{event}",
            title=str(title) % {"name": name},
            body=str(body) % {"name": name, "seconds": settings.QUEUE_OFFER_SECONDS},
            url="/queue",
            data={"entry_id": entry.pk},
            actor_id=entry.professional_id,
        )


def _offer_next_locked(
    profile: ProfessionalProfile | None, *, professional_id: int, now: datetime.datetime
) -> MarketplaceQueueEntry | None:
    """Offer the turn to the first in line, if the professional can take them now.

    The caller holds the profile's lock. Nothing happens when the professional is not taking
    calls, is in a call, or has a turn offered already.
    """
    if profile is None or not _accepting(profile):
        return None
    if selectors.professional_in_call(professional_id=professional_id):
        return None
    if MarketplaceQueueEntry.objects.filter(
        professional_id=professional_id, status=EntryStatus.OFFERED
    ).exists():
        return None
    first = (
        selectors.open_entries(professional_id=professional_id)
        .filter(status=EntryStatus.WAITING)
        .values_list("id", flat=True)
        .first()
    )
    if first is None:
        return None
    entry = _lock_entry(first)
    entry.status = EntryStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = now + datetime.timedelta(seconds=settings.QUEUE_OFFER_SECONDS)
    entry.save(update_fields=("status", "offered_at", "offer_expires_at", "updated_at"))
    _notify(
        entry,
        event="offer",
        title=_("Your turn with %(name)s"),
        body=_("%(name)s can take your call now. Start it within %(seconds)s seconds."),
    )
    events.entry_updated(entry)
    return entry


def _pass_turn(
    profile: ProfessionalProfile | None,
    *,
    professional_id: int,
    now: datetime.datetime,
    before: dict[int, int],
    told: set[int],
) -> MarketplaceQueueEntry | None:
    """After an offered entry closed: offer the next, tell the line, refresh the status."""
    offered = _offer_next_locked(profile, professional_id=professional_id, now=now)
    if offered is not None:
        told.add(offered.pk)
    events.line_changed(professional_id=professional_id, before=before, skip=frozenset(told))
    _refresh_status(professional_id)
    return offered


def _expire_locked(entry: MarketplaceQueueEntry, now: datetime.datetime) -> None:
    """An offer not taken in time: EXPIRED, and the fee per QUEUE_NO_SHOW_FEE."""
    _close(entry, EntryStatus.EXPIRED, now)
    if entry.hold_id is not None:
        assert entry.hold is not None
        if settings.QUEUE_NO_SHOW_FEE == NO_SHOW_CHARGE:
            professional_share, platform_share = ledger.split_charge(entry.hold.amount)
            metadata = {"entry_id": entry.pk}
            credits = []
            if professional_share:
                credits.append(
                    ledger.Credit(
                        account=ledger.account_for_user(
                            user=entry.professional, kind=AccountKind.EARNINGS_PENDING
                        ),
                        amount=professional_share,
                        kind=TransferKind.QUEUE_FEE,
                        metadata={**metadata, "share": "professional"},
                    )
                )
            credits.append(
                ledger.Credit(
                    account=ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE),
                    amount=platform_share,
                    kind=TransferKind.QUEUE_FEE,
                    metadata={**metadata, "share": "platform"},
                )
            )
            ledger.hold_post(hold=entry.hold, credits=credits)
        else:
            ledger.hold_void(hold=entry.hold)
    _notify(
        entry,
        event="expired",
        title=_("Your turn with %(name)s passed"),
        body=_("You did not start the call in time, so the turn went to the next in line."),
    )
    events.entry_updated(entry)


# --- Commands ----------------------------------------------------------------------------------


def queue_join(
    *, client: Any, professional_id: int, now: datetime.datetime | None = None
) -> MarketplaceQueueEntry:
    """Join a busy professional's queue, holding QUEUE_FEE from the client's wallet.

    Errors (nothing written): the policy's verification steps (403), queueing.self_queue (422),
    queueing.professional_not_found (404), queueing.professional_offline,
    queueing.in_call (the client is in a live call), queueing.already_in_queue,
    queueing.professional_available (online and free: call directly), queueing.queue_full
    (409), wallet.insufficient_funds (409).
    """
    require(client, Action.JOIN_QUEUE)
    if client.pk == professional_id:
        raise SelfQueueError(_("You cannot join your own queue."))
    now = now or timezone.now()
    with transaction.atomic():
        profile = _lock_profile(professional_id)
        if (
            profile is None
            or not profile.is_listed
            or not User.objects.filter(
                pk=professional_id, is_active=True, account_type=AccountType.PROFESSIONAL
            ).exists()
        ):
            raise ProfessionalNotFoundError(_("This professional was not found."))
        if not _accepting(profile):
            raise ProfessionalOfflineError(_("This professional is offline."))
        if selectors.client_in_call(client_id=client.pk):
            raise InCallError(_("Finish your current call before joining a queue."))
        line = selectors.open_entries(professional_id=professional_id)
        if line.filter(client_id=client.pk).exists():
            raise AlreadyInQueueError(_("You are already in this professional's queue."))
        length = line.count()
        if length == 0 and not selectors.professional_in_call(professional_id=professional_id):
            raise ProfessionalAvailableError(
                _("This professional is available: call them directly.")
            )
        if length >= settings.QUEUE_MAX_LENGTH:
            raise QueueFullError(
                _("This professional's queue is full."),
                extra={"max_length": settings.QUEUE_MAX_LENGTH},
            )
        try:
            with transaction.atomic():
                entry = MarketplaceQueueEntry.objects.create(
                    professional_id=professional_id,
                    client=client,
                    fee=settings.QUEUE_FEE,
                    joined_at=now,
                )
        except IntegrityError as error:
            # The partial unique constraint: a concurrent join of the same client won.
            raise AlreadyInQueueError(_("You are already in this professional's queue.")) from error
        if entry.fee > 0:
            entry.hold = ledger.hold_create(
                account=ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET),
                amount=entry.fee,
                kind=HoldKind.QUEUE_FEE,
                idempotency_key=f"queue:{entry.pk}:fee",
                reference=entry.reference,
                metadata={"entry_id": entry.pk, "professional_id": professional_id},
            )
            entry.save(update_fields=("hold", "updated_at"))
        entry = _lock_entry(entry.pk)
        events.entry_updated(entry)
        events.queue_changed(professional_id=professional_id, length=length + 1)
        # A line with nobody offered and no call (a missed "freed" signal) gets moving again.
        if _offer_next_locked(profile, professional_id=professional_id, now=now) is not None:
            _refresh_status(professional_id)
    return entry


def queue_leave(
    *, client: Any, entry_id: int, now: datetime.datetime | None = None
) -> MarketplaceQueueEntry:
    """Leave the line (waiting or offered): LEFT, the hold voided, the turn passed on.

    An offer already past its window is expired instead (as the sweep would), so leaving late
    never dodges QUEUE_NO_SHOW_FEE. Errors: not_found (404), queueing.not_in_queue (409).
    """
    now = now or timezone.now()
    with transaction.atomic():
        found = _entry_of_client(client=client, entry_id=entry_id)
        profile = _lock_profile(found.professional_id)
        entry = _lock_entry(found.pk)
        if entry.status not in OPEN_STATUSES:
            raise NotInQueueError(
                _("You are no longer in this queue."), extra={"status": entry.status}
            )
        before = selectors.positions(professional_id=entry.professional_id)
        was_offered = entry.status == EntryStatus.OFFERED
        if was_offered and entry.offer_expires_at and entry.offer_expires_at <= now:
            _expire_locked(entry, now)
        else:
            _close(entry, EntryStatus.LEFT, now)
            _release_hold(entry)
            events.entry_updated(entry)
        told = {entry.pk}
        if was_offered:
            _pass_turn(
                profile, professional_id=entry.professional_id, now=now, before=before, told=told
            )
        else:
            events.line_changed(
                professional_id=entry.professional_id, before=before, skip=frozenset(told)
            )
    return entry


def queue_offer_decline(
    *, client: Any, entry_id: int, now: datetime.datetime | None = None
) -> MarketplaceQueueEntry:
    """Pass on an offered turn: LEFT, the hold voided, the next in line offered.

    Errors: not_found (404), queueing.offer_not_open (409: not offered, or the window closed).
    """
    now = now or timezone.now()
    with transaction.atomic():
        found = _entry_of_client(client=client, entry_id=entry_id)
        profile = _lock_profile(found.professional_id)
        entry = _lock_entry(found.pk)
        _check_offer_open(entry, now)
        before = selectors.positions(professional_id=entry.professional_id)
        _close(entry, EntryStatus.LEFT, now)
        _release_hold(entry)
        events.entry_updated(entry)
        _pass_turn(
            profile, professional_id=entry.professional_id, now=now, before=before, told={entry.pk}
        )
    return entry


def _check_offer_open(entry: MarketplaceQueueEntry, now: datetime.datetime) -> None:
    if (
        entry.status != EntryStatus.OFFERED
        or entry.offer_expires_at is None
        or entry.offer_expires_at <= now
    ):
        raise OfferNotOpenError(
            _("This turn is not open any more."), extra={"status": entry.status}
        )


def queue_offer_accept(
    *, client: Any, entry_id: int, now: datetime.datetime | None = None
) -> tuple[MarketplaceQueueEntry, Call]:
    """Take the offered turn: ACCEPTED, and the call starts already accepted.

    ``calls.services.call_start_from_queue`` creates the call and (through
    ``calls.billing.hold_minimum``) voids the queue hold and holds the call's minimum fee in the
    same transaction: the fee counts toward the call. Errors: not_found (404),
    queueing.offer_not_open, queueing.in_call (409), and the call's own errors (an
    insufficient balance for the minimum): nothing changes then.
    """
    from calls.services import call_start_from_queue

    now = now or timezone.now()
    with transaction.atomic():
        found = _entry_of_client(client=client, entry_id=entry_id)
        _lock_profile(found.professional_id)
        entry = _lock_entry(found.pk)
        _check_offer_open(entry, now)
        if selectors.client_in_call(client_id=client.pk):
            raise InCallError(_("Finish your current call before starting another."))
        before = selectors.positions(professional_id=entry.professional_id)
        _close(entry, EntryStatus.ACCEPTED, now)
        call = call_start_from_queue(entry=entry)
        events.entry_updated(entry)
        events.line_changed(
            professional_id=entry.professional_id, before=before, skip=frozenset({entry.pk})
        )
    return entry, call


def queue_offer_next(
    *, professional_id: int, now: datetime.datetime | None = None
) -> MarketplaceQueueEntry | None:
    """Offer the turn to the first in line when the professional is free; None otherwise.

    Free: taking calls, not offline, no live call, no turn offered already. The client gets a
    ``queue_turn`` notification (sound, browser notification) and QUEUE_OFFER_SECONDS to
    accept; the professional's status is refreshed (an offer makes them busy). Idempotent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        profile = _lock_profile(professional_id)
        offered = _offer_next_locked(profile, professional_id=professional_id, now=now)
        if offered is not None:
            events.queue_changed(
                professional_id=professional_id,
                length=selectors.queue_length(professional_id=professional_id),
            )
            _refresh_status(professional_id)
    return offered


def queue_offers_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire every offer past its window, each in its own transaction; returns how many.

    Safe with two workers at once: a professional (or entry) another worker holds is skipped
    (``skip_locked``), and every entry is re-read under its lock, so each offer expires once.
    """
    now = now or timezone.now()
    due = list(
        MarketplaceQueueEntry.objects.filter(status=EntryStatus.OFFERED, offer_expires_at__lte=now)
        .order_by("offer_expires_at", "id")
        .values_list("id", "professional_id")
    )
    expired = 0
    for entry_id, professional_id in due:
        with transaction.atomic():
            profile = _lock_profile(professional_id, skip_locked=True)
            if profile is None:
                continue
            entry = (
                MarketplaceQueueEntry.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("professional", "hold")
                .filter(pk=entry_id, status=EntryStatus.OFFERED, offer_expires_at__lte=now)
                .first()
            )
            if entry is None:
                continue
            before = selectors.positions(professional_id=professional_id)
            _expire_locked(entry, now)
            _pass_turn(
                profile, professional_id=professional_id, now=now, before=before, told={entry.pk}
            )
            expired += 1
    return expired


def queue_close_for_professional(
    *, professional_id: int, now: datetime.datetime | None = None
) -> int:
    """The professional went offline: every open entry CANCELLED, every hold voided.

    Each client is told (event and notification). A professional back online by the time this
    runs (taking calls and not offline) keeps their queue. Returns how many entries closed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        profile = _lock_profile(professional_id)
        if _accepting(profile):
            return 0
        ids = list(
            selectors.open_entries(professional_id=professional_id).values_list("id", flat=True)
        )
        for entry_id in ids:
            entry = _lock_entry(entry_id)
            _close(entry, EntryStatus.CANCELLED, now)
            _release_hold(entry)
            _notify(
                entry,
                event="closed",
                title=_("%(name)s went offline"),
                body=_("Their queue was closed and your queue fee was released."),
            )
            events.entry_updated(entry)
        if ids:
            events.queue_changed(professional_id=professional_id, length=0)
    return len(ids)
