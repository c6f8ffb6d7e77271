"""Conversations that arrive from outside the widget: WhatsApp attendances relayed by
BotConversa (``crm.botconversa``), and their status changes.

A contact reached by phone is a ``Contact`` with ``phone`` (E.164) and no visitor session.
Their messages go through the same paths as the widget's (``inbox.contact_message_send`` for a
conversation already open; otherwise a new conversation created as ``inbox.conversation_start``
does, but in the queue the integration chose rather than the department's first), so the inbox
sees the same events, notifications, SLA timers and routing.

Lock order is the inbox's (agent rows, then conversations); creating a contact for a new number
locks the organization row first, so two first messages from one number make one contact.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from chat.models import Message
from core.exceptions import ApplicationError, NotFoundError
from queueing import inbox, inbox_events, signals
from queueing.models import (
    Contact,
    Conversation,
    ConversationChannel,
    ConversationEventKind,
    ConversationStatus,
    SupportQueue,
)

# Message.client_id is 64 characters; the prefix keeps external ids apart from the widget's.
CLIENT_ID_PREFIX = "ext:"
MAX_EXTERNAL_ID_LENGTH = 64 - len(CLIENT_ID_PREFIX)


def _invalid(field: str) -> ApplicationError:
    return ApplicationError(
        _("This value is not valid."),
        code="inbox.invalid_external_message",
        extra={"field": field},
        status_code=422,
    )


def contact_for_phone(*, organization_id: int, phone: str, name: str = "") -> Contact:
    """The organization's support contact with this E.164 number, created if there is none
    (locking the organization row so concurrent first messages agree on one). A contact
    without a name gets ``name``."""
    found = (
        Contact.objects.filter(organization_id=organization_id, phone=phone).order_by("pk").first()
    )
    if found is None:
        Organization.objects.select_for_update().filter(pk=organization_id).first()
        found = (
            Contact.objects.filter(organization_id=organization_id, phone=phone)
            .order_by("pk")
            .first()
        )
        if found is None:
            return Contact.objects.create(
                organization_id=organization_id, phone=phone, name=name.strip()[:150]
            )
    if name.strip() and not found.name:
        found.name = name.strip()[:150]
        found.save(update_fields=["name", "updated_at"])
    return found


@transaction.atomic
def external_message_receive(
    *,
    organization_id: int,
    queue_id: int,
    channel: str,
    phone: str,
    name: str,
    text: str,
    external_id: str,
) -> tuple[Conversation, Message, bool]:
    """A contact's message from outside (``phone`` E.164): ``(conversation, message, created)``,
    ``created`` False when ``external_id`` was already received (nothing changes then).

    Finds or creates the support contact by phone; the message goes into their unresolved
    conversation on ``channel`` (which opens again if pending or snoozed), or opens a new one in
    ``queue_id`` (waiting, SLA started, routed after commit). Emits the inbox's usual events.

    Raises ``inbox.not_found`` (404: the queue is not the organization's),
    ``inbox.invalid_external_message`` (422, extra {"field"}), the chat message errors.
    """
    if channel not in ConversationChannel.values:
        raise _invalid("channel")
    if not phone:
        raise _invalid("phone")
    if not external_id or len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        raise _invalid("external_id")
    queue = SupportQueue.objects.filter(pk=queue_id, organization_id=organization_id).first()
    if queue is None:
        raise NotFoundError(_("Not found."), code="inbox.not_found")
    contact = contact_for_phone(organization_id=organization_id, phone=phone, name=name)
    client_id = CLIENT_ID_PREFIX + external_id
    replayed = (
        Message.objects.filter(
            room__support_conversation__contact=contact, by_contact=True, client_id=client_id
        )
        .select_related("room__support_conversation")
        .first()
    )
    if replayed is not None:
        return replayed.room.support_conversation, replayed, False  # type: ignore[attr-defined]
    conversation, _created = inbox.conversation_start(
        contact=contact,
        channel=channel,
        department_id=None,
        body=text,
        client_id=client_id,
        queue=queue,
    )
    message = Message.objects.get(
        room_id=conversation.room_id, by_contact=True, client_id=client_id
    )
    return Conversation.objects.get(pk=conversation.pk), message, True


def latest_conversation(*, organization_id: int, phone: str, channel: str) -> Conversation | None:
    """The newest conversation on ``channel`` of the organization's contact with ``phone``."""
    return (
        Conversation.objects.filter(
            organization_id=organization_id, contact__phone=phone, channel=channel
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def external_status_set(*, conversation_id: int, status: str) -> Conversation:
    """The outside system closed (``resolved``) or opened again (``open``) the conversation.

    Resolving: as an agent's resolve (assignee kept, capacity released, resolution SLA closed,
    CSAT asked), with no actor. Opening a resolved conversation: it waits in line again
    (unassigned; routed after commit), unless the contact already has another unresolved one on
    the channel or it was merged (then nothing changes). Any other case changes nothing. Locks
    the assignee's agent row, then the conversation. Records a STATUS event with
    ``reason: "external"`` and sends ``conversation_status_changed`` after commit.
    """
    from queueing import sla

    locked = inbox._lock(Conversation(pk=conversation_id))
    now = timezone.now()
    old = locked.status
    was_waiting = locked.waiting_since is not None
    if status == ConversationStatus.RESOLVED:
        if old == ConversationStatus.RESOLVED:
            return locked
        inbox._resolve(locked, actor_id=None, now=now)
        sla.sla_on_resolve(conversation_id=locked.pk, now=now)
        inbox_events.csat_requested(locked.pk, locked.contact_id)
    elif status == ConversationStatus.OPEN:
        if old != ConversationStatus.RESOLVED or locked.merged_into_id is not None:
            return locked
        if inbox._unresolved_of(locked.contact, locked.channel) is not None:
            return locked
        _reopen(locked, now=now)
        sla.sla_on_reopen(conversation_id=locked.pk, now=now)
    else:
        raise _invalid("status")
    data: dict[str, Any] = {"from": old, "to": status, "reason": "external"}
    inbox._event(locked, ConversationEventKind.STATUS, actor_id=None, data=data, now=now)
    signals.send_on_commit(
        signals.conversation_status_changed,
        conversation_id=locked.pk,
        status=status,
        channel=locked.channel,
    )
    is_waiting = locked.waiting_since is not None
    inbox._changed(locked, positions=[locked.queue_id] if was_waiting or is_waiting else [])
    if is_waiting and not was_waiting:
        inbox._route_after_commit(locked.pk)
    return Conversation.objects.get(pk=locked.pk)


def _reopen(locked: Conversation, *, now: datetime.datetime) -> None:
    locked.status = ConversationStatus.OPEN
    locked.resolved_at = None
    locked.resolved_by = None
    locked.assignee = None
    locked.assigned_at = None
    locked.waiting_since = now
    locked.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "assignee",
            "assigned_at",
            "waiting_since",
            "updated_at",
        ]
    )
