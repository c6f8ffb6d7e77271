"""SLA timers of support conversations: first response and resolution, in business time.

A conversation gets both timers when it starts (``sla_start``): the due dates are the queue's
targets counted in its business hours (``queueing.hours``), status ``active``; a queue without
a target gives that timer status ``none``. The first staff reply that is not a note stops the
first response timer (``sla_on_agent_reply``), resolving stops the resolution timer
(``sla_on_resolve``): ``met`` when on time, ``breached`` when late. ``sla_check`` (every
minute, task ``queueing.check_sla``) warns once when a running timer's due date is closer than
the queue's ``sla_warning_minutes`` and marks it breached once the due date has passed.
``breached`` is final: reports count it.

Every breach, whoever notices it (the periodic check, a late reply, a late resolve), records a
``sla_breach`` ConversationEvent and notifies the assignee, the queue's supervisors and the
organization's admins (kind ``support_sla_breach``, source ``sla:<id>:<timer>:breach``). A
warning records ``sla_warning`` and notifies the assignee (the queue's supervisors while
nobody is assigned: someone must be able to act). Timers keep running while a conversation is
pending or snoozed.

The functions taking a ``conversation_id`` lock that row (``select_for_update``) and change
only the SLA fields (``save(update_fields=...)``): callers that already hold the lock and
save other fields afterwards must save with ``update_fields`` too, or they write the old SLA
values back. They emit no conversation event of their own (the caller's service does);
``sla_check`` emits ``inbox_events.conversation_changed`` for what it changed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Literal, TypedDict

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.roles import Role
from chat.models import NotificationKind
from queueing import hours
from queueing.models import (
    UNRESOLVED_STATUSES,
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    QueueMember,
    SlaStatus,
    SupportQueue,
)

logger = logging.getLogger(__name__)

Timer = Literal["first_response", "resolution"]
TIMERS: tuple[Timer, ...] = ("first_response", "resolution")
# Conversations locked and handled per transaction by sla_check.
BATCH_SIZE = 200


class SlaTimerData(TypedDict):
    status: str
    due_at: str | None
    at: str | None


class SlaData(TypedDict):
    first_response: SlaTimerData
    resolution: SlaTimerData


def conversation_url(conversation_id: int) -> str:
    """The web app's route to a conversation in the inbox (relative)."""
    return f"/inbox/{conversation_id}"


def _iso(value: datetime.datetime | None) -> str | None:
    # The same text the socket's JSON encoder writes for the payload's other datetimes.
    return None if value is None else str(DjangoJSONEncoder().default(value))


def sla_payload(conversation: Conversation) -> SlaData:
    """Both timers as events and serializers show them (ISO strings or null).

    ``at`` is when the timer stopped: the first response, or the resolution.
    """
    return {
        "first_response": {
            "status": conversation.first_response_status,
            "due_at": _iso(conversation.first_response_due_at),
            "at": _iso(conversation.first_response_at),
        },
        "resolution": {
            "status": conversation.resolution_status,
            "due_at": _iso(conversation.resolution_due_at),
            "at": _iso(conversation.resolved_at),
        },
    }


def _target(queue: SupportQueue, timer: Timer) -> int | None:
    return queue.first_response_minutes if timer == "first_response" else queue.resolution_minutes


def _due(queue: SupportQueue, timer: Timer, start: datetime.datetime) -> datetime.datetime | None:
    """The timer's due date from ``start``; None when the queue has no target for it."""
    minutes = _target(queue, timer)
    if minutes is None:
        return None
    try:
        return hours.queue_add_business_minutes(queue, start, minutes)
    except ValueError:
        # Hours that never open (validation refuses them): no due date rather than no
        # conversation at all.
        logger.warning("queue %s never opens: no SLA due date", queue.pk)
        return None


def _start_timer(
    conversation: Conversation, queue: SupportQueue, timer: Timer, now: datetime.datetime
) -> None:
    due = _due(queue, timer, now)
    setattr(conversation, f"{timer}_due_at", due)
    setattr(conversation, f"{timer}_status", SlaStatus.NONE if due is None else SlaStatus.ACTIVE)
    setattr(conversation, f"{timer}_warned_at", None)


def sla_start(conversation: Conversation, *, now: datetime.datetime) -> None:
    """Start both timers of a new conversation from ``now`` (it only sets attributes).

    The caller (``conversation_create``) sets ``conversation.queue`` first and saves after.
    """
    queue = conversation.queue
    conversation.first_response_at = None
    for timer in TIMERS:
        _start_timer(conversation, queue, timer, now)


_SLA_FIELDS = [
    "first_response_due_at",
    "first_response_at",
    "first_response_status",
    "first_response_warned_at",
    "resolution_due_at",
    "resolution_status",
    "resolution_warned_at",
    "updated_at",
]


def _locked(conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("queue", "contact")
        .filter(pk=conversation_id)
        .first()
    )


@transaction.atomic
def sla_on_agent_reply(*, conversation_id: int, now: datetime.datetime) -> None:
    """Record the first staff reply (not a note): the first response timer stops.

    ``met`` when ``now`` is not after the due date, else ``breached`` (a breach the periodic
    check had not noticed yet is recorded and notified here). Later replies change nothing.
    Locks the conversation row.
    """
    conversation = _locked(conversation_id)
    if conversation is None or conversation.first_response_at is not None:
        return
    conversation.first_response_at = now
    if conversation.first_response_status == SlaStatus.ACTIVE:
        _stop(conversation, "first_response", now, _Notifier(now))
    conversation.save(update_fields=_SLA_FIELDS)


@transaction.atomic
def sla_on_resolve(*, conversation_id: int, now: datetime.datetime) -> None:
    """The conversation was resolved: the resolution timer stops (``met`` or ``breached``).

    A first response timer still running (resolved without any reply) stops too: breached
    when already late, else it no longer applies (``none``, no due date). Locks the row.
    """
    conversation = _locked(conversation_id)
    if conversation is None:
        return
    notifier = _Notifier(now)
    if conversation.resolution_status == SlaStatus.ACTIVE:
        _stop(conversation, "resolution", now, notifier)
    if conversation.first_response_status == SlaStatus.ACTIVE:
        due = conversation.first_response_due_at
        if due is not None and due < now:
            _breach(conversation, "first_response", now, notifier)
        else:
            conversation.first_response_status = SlaStatus.NONE
            conversation.first_response_due_at = None
    conversation.save(update_fields=_SLA_FIELDS)


@transaction.atomic
def sla_on_reopen(*, conversation_id: int, now: datetime.datetime) -> None:
    """The conversation was reopened: a met (or never started) resolution timer starts over
    from ``now`` with the queue's current target; a breached one stays breached. A first
    response never given and not breached starts over the same way. Locks the row.
    """
    conversation = _locked(conversation_id)
    if conversation is None:
        return
    queue = conversation.queue
    if conversation.resolution_status in (SlaStatus.MET, SlaStatus.NONE):
        _start_timer(conversation, queue, "resolution", now)
    if (
        conversation.first_response_at is None
        and conversation.first_response_status == SlaStatus.NONE
    ):
        _start_timer(conversation, queue, "first_response", now)
    conversation.save(update_fields=_SLA_FIELDS)


def _stop(
    conversation: Conversation, timer: Timer, now: datetime.datetime, notifier: _Notifier
) -> None:
    due = getattr(conversation, f"{timer}_due_at")
    if due is not None and due < now:
        _breach(conversation, timer, now, notifier)
    else:
        setattr(conversation, f"{timer}_status", SlaStatus.MET)


def _record(
    conversation: Conversation, kind: str, timer: Timer, now: datetime.datetime
) -> ConversationEvent:
    return ConversationEvent.objects.create(
        conversation=conversation,
        organization_id=conversation.organization_id,
        kind=kind,
        data={"timer": timer},
        created_at=now,
    )


def _breach(
    conversation: Conversation, timer: Timer, now: datetime.datetime, notifier: _Notifier
) -> None:
    setattr(conversation, f"{timer}_status", SlaStatus.BREACHED)
    _record(conversation, ConversationEventKind.SLA_BREACH, timer, now)
    notifier.notify(conversation, timer, "breach")


def _warn(
    conversation: Conversation, timer: Timer, now: datetime.datetime, notifier: _Notifier
) -> None:
    setattr(conversation, f"{timer}_warned_at", now)
    _record(conversation, ConversationEventKind.SLA_WARNING, timer, now)
    notifier.notify(conversation, timer, "warning")


# --- notifications ----------------------------------------------------------------------------


def _title(kind: str, timer: Timer, contact: str) -> str:
    names = {
        ("warning", "first_response"): _("First response due soon: %(contact)s"),
        ("warning", "resolution"): _("Resolution due soon: %(contact)s"),
        ("breach", "first_response"): _("First response overdue: %(contact)s"),
        ("breach", "resolution"): _("Resolution overdue: %(contact)s"),
    }
    return names[(kind, timer)] % {"contact": contact}


class _Notifier:
    """Who hears about a warning or a breach, looked up once per queue and organization in a
    run (a batch of breaches in one queue asks for its supervisors once)."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now
        self._supervisors: dict[int, list[int]] = {}
        self._admins: dict[int, list[int]] = {}
        self._languages: dict[int, str] = {}

    def supervisors(self, queue_id: int) -> list[int]:
        if queue_id not in self._supervisors:
            self._supervisors[queue_id] = list(
                QueueMember.objects.filter(
                    queue_id=queue_id, is_supervisor=True, user__is_active=True
                )
                .order_by("user_id")
                .values_list("user_id", flat=True)
            )
        return self._supervisors[queue_id]

    def admins(self, organization_id: int) -> list[int]:
        if organization_id not in self._admins:
            self._admins[organization_id] = list(
                Membership.objects.filter(
                    organization_id=organization_id, role=Role.ORG_ADMIN, user__is_active=True
                )
                .order_by("user_id")
                .values_list("user_id", flat=True)
            )
        return self._admins[organization_id]

    def recipients(self, conversation: Conversation, kind: str) -> list[int]:
        people: list[int] = []
        if conversation.assignee_id is not None:
            people.append(conversation.assignee_id)
        if kind == "breach":
            people += self.supervisors(conversation.queue_id)
            people += self.admins(conversation.organization_id)
        elif conversation.assignee_id is None:
            people += self.supervisors(conversation.queue_id)
        return list(dict.fromkeys(people))

    def languages(self, user_ids: Iterable[int]) -> dict[int, str]:
        missing = [pk for pk in user_ids if pk not in self._languages]
        if missing:
            self._languages.update(
                User.objects.filter(pk__in=missing).values_list("pk", "language")
            )
        return self._languages

    def notify(self, conversation: Conversation, timer: Timer, kind: str) -> None:
        from chat.notifications import notification_create

        user_ids = self.recipients(conversation, kind)
        languages = self.languages(user_ids)
        queue = conversation.queue
        due = getattr(conversation, f"{timer}_due_at")
        for user_id in user_ids:
            with translation.override(languages.get(user_id)):
                contact = conversation.contact.name or conversation.contact.email or _("Visitor")
                title = _title(kind, timer, contact)
            notification_create(
                user_id=user_id,
                organization_id=conversation.organization_id,
                kind=(
                    NotificationKind.SUPPORT_SLA_BREACH
                    if kind == "breach"
                    else NotificationKind.SUPPORT_SLA_WARNING
                ),
                source=f"sla:{conversation.pk}:{timer}:{kind}",
                title=title,
                body=f"{queue.name} · {conversation.subject}"
                if conversation.subject
                else queue.name,
                url=conversation_url(conversation.pk),
                data={"conversation_id": conversation.pk, "timer": timer, "due_at": _iso(due)},
            )


# --- the periodic check -----------------------------------------------------------------------


def _attention(now: datetime.datetime) -> Q:
    """Running timers past due, or not yet warned and within the longest warning window of any
    queue (each row's own queue window is checked after locking it)."""
    longest = SupportQueue.objects.aggregate(longest=Max("sla_warning_minutes"))["longest"] or 0
    horizon = now + datetime.timedelta(minutes=longest)
    condition = Q()
    for timer in TIMERS:
        running = Q(**{f"{timer}_status": SlaStatus.ACTIVE})
        condition |= running & Q(**{f"{timer}_due_at__lt": now})
        if longest:
            condition |= running & Q(
                **{f"{timer}_warned_at__isnull": True, f"{timer}_due_at__lte": horizon}
            )
    return condition


def _check(
    conversation: Conversation, now: datetime.datetime, notifier: _Notifier
) -> tuple[int, int]:
    """Warn or breach this locked conversation's timers: (timers warned, timers breached)."""
    warned = breached = 0
    warning = datetime.timedelta(minutes=conversation.queue.sla_warning_minutes)
    for timer in TIMERS:
        due = getattr(conversation, f"{timer}_due_at")
        if getattr(conversation, f"{timer}_status") != SlaStatus.ACTIVE or due is None:
            continue
        if due < now:
            # Late already: the breach says it all, no warning first.
            _breach(conversation, timer, now, notifier)
            breached += 1
        elif (
            warning and getattr(conversation, f"{timer}_warned_at") is None and due - warning <= now
        ):
            _warn(conversation, timer, now, notifier)
            warned += 1
    return warned, breached


def sla_check(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Warn about timers nearing their due date and breach those past it; the body of the
    ``queueing.check_sla`` task. Returns ``{"warned": n, "breached": m}`` (timers).

    Works in batches of ``BATCH_SIZE`` conversations, each batch one transaction that locks
    its rows ``FOR UPDATE SKIP LOCKED``: a second worker running at the same time skips them
    (and a reply or resolve holding a row is not waited for: the next run sees it), so no
    timer is warned or breached twice. The state change (``*_warned_at``, ``breached``)
    happens under the lock, which makes a rerun a no-op; notification sources are unique per
    person besides. Emits ``inbox_events.conversation_changed`` for each batch's changed
    conversations after commit.
    """
    from queueing import inbox_events

    now = now or timezone.now()
    candidates = Conversation.objects.filter(_attention(now), status__in=UNRESOLVED_STATUSES)
    counts = {"warned": 0, "breached": 0}
    notifier = _Notifier(now)
    after_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                candidates.filter(pk__gt=after_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("queue", "contact")
                .order_by("pk")[:BATCH_SIZE]
            )
            if not batch:
                break
            after_id = batch[-1].pk
            changed = []
            for conversation in batch:
                warned, breached = _check(conversation, now, notifier)
                if warned or breached:
                    counts["warned"] += warned
                    counts["breached"] += breached
                    conversation.save(update_fields=_SLA_FIELDS)
                    changed.append(conversation.pk)
            inbox_events.conversation_changed(changed)
    return counts
