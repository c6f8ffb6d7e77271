"""Support conversations: starting them, messages and notes, assignment and transfer, status,
merging, CSAT, transcripts and the offline form.

Lock order (shared with ``routing`` and ``agents``): SupportAgent rows (by primary key), then
Conversation rows (by primary key). A service that may change an agent's ``open_count`` locks
the assignee's agent row *before* the conversation (``_lock``) and re-checks the assignee on
the locked rows. Assigning and releasing agents go through ``queueing.routing`` (assign_to,
unassign, release_on_resolve), which keeps ``open_count`` honest and never exceeds capacity.

Internal notes are chat messages of kind ``note``: they are stored in the same room but every
contact-facing path (widget events, ``for_contact`` message data, the transcript) leaves them
out. Events go out after commit (``inbox_events``); routing runs after commit as a task.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import status as http

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from chat import markup
from chat.models import Attachment, Message, MessageKind, NotificationKind
from chat.support import first_name, support_message_create, support_room_create
from core.exceptions import ApplicationError, ConflictError, NotFoundError
from queueing import inbox_access, inbox_events, signals
from queueing.models import (
    UNRESOLVED_STATUSES,
    AgentAvailability,
    Contact,
    Conversation,
    ConversationChannel,
    ConversationEvent,
    ConversationEventKind,
    ConversationPriority,
    ConversationStatus,
    CsatResponse,
    Department,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)

logger = logging.getLogger(__name__)

MAX_LABELS = 20
MAX_LABEL_LENGTH = 40
MAX_SUBJECT_LENGTH = 200
MAX_COMMENT_LENGTH = 1000
WAKE_BATCH = 200


# --- Errors ----------------------------------------------------------------------------------


def _widget_not_found() -> NotFoundError:
    return NotFoundError(_("Not found."), code="widget.not_found")


def _resolved_for_contact() -> ConflictError:
    return ConflictError(
        _("This conversation has ended. Start a new one."), code="widget.conversation_resolved"
    )


def _resolved_for_staff() -> ConflictError:
    return ConflictError(
        _("This conversation is resolved. Reopen it first."), code="inbox.conversation_resolved"
    )


def _invalid(code: str, message: str, **extra: Any) -> ApplicationError:
    return ApplicationError(
        message, code=code, extra=extra, status_code=http.HTTP_422_UNPROCESSABLE_ENTITY
    )


# --- Small helpers ---------------------------------------------------------------------------


def _event(
    conversation: Conversation,
    kind: str,
    *,
    actor_id: int | None,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> ConversationEvent:
    return ConversationEvent.objects.create(
        conversation=conversation,
        organization_id=conversation.organization_id,
        kind=kind,
        actor_id=actor_id,
        data=data or {},
        created_at=now or timezone.now(),
    )


def _route_after_commit(conversation_id: int) -> None:
    from queueing import tasks

    transaction.on_commit(lambda: tasks.route_conversation.delay(conversation_id))


def _conversation_url(conversation_id: int) -> str:
    return f"/inbox/{conversation_id}"


def _lock(conversation: Conversation) -> Conversation:
    """The assignee's agent row, then the conversation, locked (``routing.conversation_lock``)."""
    from queueing import routing

    locked, _agents = routing.conversation_lock(conversation_id=conversation.pk)
    return locked


def _lock_many(conversations: Sequence[Conversation]) -> list[Conversation]:
    """Lock the assignees' agent rows (by pk), then the conversations (by pk)."""
    ids = sorted({item.pk for item in conversations})
    assignee_ids = set(
        Conversation.objects.filter(pk__in=ids, assignee__isnull=False).values_list(
            "assignee_id", flat=True
        )
    )
    organization_id = conversations[0].organization_id
    list(
        SupportAgent.objects.select_for_update()
        .filter(organization_id=organization_id, user_id__in=assignee_ids)
        .order_by("pk")
    )
    locked = {
        item.pk: item
        for item in Conversation.objects.select_for_update()
        .select_related("contact", "queue")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    return [locked[item.pk] for item in conversations]


def _changed(conversation: Conversation, *, positions: Sequence[int] = ()) -> None:
    inbox_events.conversation_changed([conversation.pk])
    for queue_id in sorted(set(positions)):
        inbox_events.queue_positions_changed(queue_id)
    inbox_events.supervisor_changed(conversation.organization_id)


def _notify(
    *,
    users: Sequence[User],
    kind: str,
    source: str,
    title: Any,
    body: str,
    conversation: Conversation,
    actor_id: int | None = None,
) -> None:
    """Notify each user in their own language; ``title`` is called with none, under it."""
    from chat.notifications import notification_create

    for user in users:
        with translation.override(user.language):
            notification_create(
                user_id=user.pk,
                kind=kind,
                source=source,
                title=str(title()),
                body=body,
                url=_conversation_url(conversation.pk),
                data={"conversation_id": conversation.pk},
                actor_id=actor_id,
                organization_id=conversation.organization_id,
            )


def _body_preview(body: str) -> str:
    text = " ".join(markup.plain_text(body, names={}).split())
    return text[:280]


def _contact_label(contact: Contact) -> str:
    return contact.name or contact.email or _("A visitor")


# --- Starting a conversation -----------------------------------------------------------------


def _pick_queue(organization_id: int, department_id: int | None) -> SupportQueue:
    queues = SupportQueue.objects.filter(
        organization_id=organization_id, department__is_active=True
    )
    if department_id is not None:
        if not Department.objects.filter(
            pk=department_id, organization_id=organization_id, is_active=True
        ).exists():
            raise _invalid("widget.invalid_department", _("Choose one of the departments."))
        queues = queues.filter(department_id=department_id)
    queue = queues.select_related("department").order_by("-priority", "pk").first()
    if queue is None:
        raise ConflictError(
            _("Nobody can answer here yet. Please try again later."), code="widget.no_queue"
        )
    return queue


def _available_members(queue: SupportQueue) -> list[User]:
    agents = SupportAgent.objects.filter(
        organization_id=queue.organization_id,
        user__support_queue_memberships__queue=queue,
        availability=AgentAvailability.ONLINE,
        connected=True,
        user__memberships__organization_id=queue.organization_id,
        user__memberships__role__in=inbox_access.AGENT_ROLES,
    ).select_related("user")
    return [agent.user for agent in agents.order_by("user_id") if agent.open_count < agent.capacity]


def _unresolved_of(contact: Contact, channel: str) -> Conversation | None:
    return (
        Conversation.objects.filter(
            contact=contact, channel=channel, status__in=UNRESOLVED_STATUSES
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def conversation_start(
    *,
    contact: Contact,
    channel: str,
    department_id: int | None,
    body: str,
    client_id: str | None = None,
    subject: str = "",
    offline: bool = False,
    queue: SupportQueue | None = None,
) -> tuple[Conversation, bool]:
    """Start the contact's conversation with a first message; ``(conversation, created)``.

    ``queue`` (of the contact's organization) places a new conversation there instead of the
    department's top queue: channels configured with their own queue (WhatsApp).

    If the contact already has an unresolved conversation on this channel, the message goes
    into it instead (``created`` False), as ``contact_message_send`` would post it. Otherwise
    picks the department's top-priority queue (no department: the organization's first),
    creates the room, the conversation (waiting, SLA timers started), the message, a CREATED
    event and a notification to the queue's available agents; after commit emits
    ``inbox.conversation.created``, the queue's positions and the supervisor snapshot, and
    routes the conversation (``tasks.route_conversation``). A retry with the same
    ``client_id`` finds its conversation through the message.

    Raises ``widget.invalid_department`` (422), ``inbox.invalid_queue`` (422: ``queue`` of
    another organization), ``widget.no_queue`` (409), the chat message
    errors (empty, too long).
    """
    from queueing import sla

    if channel not in ConversationChannel.values:
        raise _invalid("widget.invalid_channel", _("Unknown channel."))
    if client_id:
        retried = (
            Message.objects.filter(
                room__support_conversation__contact=contact, by_contact=True, client_id=client_id
            )
            .select_related("room__support_conversation")
            .first()
        )
        if retried is not None:
            return retried.room.support_conversation, False  # type: ignore[attr-defined]
    existing = _unresolved_of(contact, channel)
    if existing is not None:
        contact_message_send(contact=contact, conversation=existing, body=body, client_id=client_id)
        existing.refresh_from_db()
        return existing, False

    if queue is None:
        queue = _pick_queue(contact.organization_id, department_id)
    elif queue.organization_id != contact.organization_id:
        raise _invalid("inbox.invalid_queue", _("This queue is not the organization's."))
    # Fail on an empty or too long message before anything is created.
    cleaned = markup.clean(body)
    if not cleaned:
        from chat.services import MessageEmptyError

        raise MessageEmptyError()
    now = timezone.now()
    room = support_room_create(organization_id=contact.organization_id)
    conversation = Conversation(
        organization_id=contact.organization_id,
        contact=contact,
        room=room,
        channel=channel,
        status=ConversationStatus.OPEN,
        subject=subject.strip()[:MAX_SUBJECT_LENGTH],
        queue=queue,
        waiting_since=now,
        offline=offline,
        last_message_at=now,
        last_contact_message_at=now,
    )
    sla.sla_start(conversation, now=now)
    try:
        with transaction.atomic():
            conversation.save()
    except IntegrityError:
        # The contact started another conversation on this channel at the same moment.
        existing = _unresolved_of(contact, channel)
        if existing is None:
            raise
        contact_message_send(contact=contact, conversation=existing, body=body, client_id=client_id)
        return existing, False
    message, _created = support_message_create(
        room=room,
        author_id=contact.user_id,
        by_contact=True,
        body=body,
        client_id=client_id,
    )
    _event(
        conversation,
        ConversationEventKind.CREATED,
        actor_id=contact.user_id,
        data={"channel": channel, "queue_id": queue.pk, "offline": offline},
        now=now,
    )
    name = _contact_label(contact)
    _notify(
        users=_available_members(queue),
        kind=NotificationKind.SUPPORT_CONVERSATION,
        source=f"conversation:{conversation.pk}",
        title=lambda: _("New conversation from %(name)s") % {"name": name},
        body=_body_preview(message.body),
        conversation=conversation,
    )
    inbox_events.conversation_created(conversation.pk)
    inbox_events.message_created(message.pk)
    inbox_events.queue_positions_changed(queue.pk)
    inbox_events.supervisor_changed(conversation.organization_id)
    signals.send_on_commit(
        signals.conversation_created,
        conversation_id=conversation.pk,
        organization_id=conversation.organization_id,
    )
    _route_after_commit(conversation.pk)
    return conversation, True


# --- Messages --------------------------------------------------------------------------------


@transaction.atomic
def contact_message_send(
    *,
    contact: Contact,
    conversation: Conversation,
    body: str,
    client_id: str | None = None,
    attachment_ids: Sequence[int] = (),
) -> Message:
    """The contact writes in their conversation.

    Locks the conversation. A pending or snoozed conversation opens again (waiting in line
    again if nobody is assigned, and routed after commit). Updates the last message times,
    notifies the assignee and emits the message and the conversation's update. A retry with the
    same ``client_id`` returns the first message and changes nothing.

    Raises ``widget.not_found`` (404: not the contact's), ``widget.conversation_resolved``
    (409), the chat message and attachment errors.
    """
    if conversation.contact_id != contact.pk or conversation.organization_id != (
        contact.organization_id
    ):
        raise _widget_not_found()
    locked = (
        Conversation.objects.select_for_update()
        .select_related("queue", "contact")
        .filter(pk=conversation.pk, contact_id=contact.pk)
        .first()
    )
    if locked is None:
        raise _widget_not_found()
    if client_id:
        existing = Message.objects.filter(
            room_id=locked.room_id, by_contact=True, client_id=client_id
        ).first()
        if existing is not None:
            return existing
    if locked.status == ConversationStatus.RESOLVED:
        raise _resolved_for_contact()
    room = locked.room
    message, created = support_message_create(
        room=room,
        author_id=contact.user_id,
        by_contact=True,
        body=body,
        client_id=client_id,
        attachment_ids=attachment_ids,
    )
    if not created:
        return message
    now = message.created_at
    locked.last_message_at = now
    locked.last_contact_message_at = now
    fields = ["last_message_at", "last_contact_message_at", "updated_at"]
    woke = locked.status in (ConversationStatus.PENDING, ConversationStatus.SNOOZED)
    if woke:
        old = locked.status
        locked.status = ConversationStatus.OPEN
        locked.snoozed_until = None
        fields += ["status", "snoozed_until"]
        if locked.assignee_id is None:
            locked.waiting_since = now
            fields.append("waiting_since")
        _event(
            locked,
            ConversationEventKind.STATUS,
            actor_id=contact.user_id,
            data={"from": old, "to": ConversationStatus.OPEN, "reason": "contact_message"},
            now=now,
        )
    locked.save(update_fields=fields)
    if locked.assignee_id is not None:
        name = _contact_label(contact)
        assignee = User.objects.get(pk=locked.assignee_id)
        _notify(
            users=[assignee],
            kind=NotificationKind.SUPPORT_CONVERSATION,
            source=f"support_message:{message.pk}",
            title=lambda: _("New message from %(name)s") % {"name": name},
            body=_body_preview(message.body),
            conversation=locked,
        )
    inbox_events.message_created(message.pk)
    if woke:
        _changed(locked, positions=[locked.queue_id] if locked.assignee_id is None else [])
        if locked.assignee_id is None:
            _route_after_commit(locked.pk)
    else:
        inbox_events.conversation_changed([locked.pk])
    return message


def _mentioned(conversation: Conversation, body: str, *, actor: User) -> list[int]:
    """Who a note names: org agents or admins who see the conversation, else 422."""
    wanted = sorted(markup.mentions_in(body).user_ids)
    if not wanted:
        return []
    users = {
        user.pk: user
        for user in User.objects.filter(
            pk__in=wanted,
            memberships__organization_id=conversation.organization_id,
            memberships__role__in=inbox_access.AGENT_ROLES,
        )
    }
    refused = [user_id for user_id in wanted if user_id not in users] + [
        user_id
        for user_id in wanted
        if user_id in users and not inbox_access.can_see(users[user_id], conversation)
    ]
    if refused:
        raise _invalid(
            "inbox.mention_not_allowed",
            _("Only agents who see this conversation can be mentioned."),
            user_ids=sorted(refused),
        )
    return wanted


@transaction.atomic
def staff_message_send(
    *,
    actor: Any,
    conversation: Conversation,
    body: str,
    note: bool = False,
    client_id: str | None = None,
    attachment_ids: Sequence[int] = (),
) -> Message:
    """A staff reply to the contact, or an internal note (``note``) only staff ever see.

    Replies need ``can_reply`` (the assignee or an org admin) and an unresolved conversation;
    notes need ``can_note`` (anyone who sees it but viewers) and may @mention agents who see
    the conversation (each is notified, ``SUPPORT_MENTION``). A reply runs the first-response
    SLA (``sla.sla_on_agent_reply``) and clears the re-queue deadline. Emits the message
    (notes only to staff groups) and the conversation's update. A retry with the same
    ``client_id`` returns the first message.

    Raises ``inbox.not_found`` (404), ``inbox.permission_denied`` (403),
    ``inbox.conversation_resolved`` (409, replies), ``inbox.mention_not_allowed`` (422), the
    chat message and attachment errors.
    """
    from queueing import sla

    if note:
        inbox_access.require_note(actor, conversation)
    else:
        inbox_access.require_reply(actor, conversation)
    if client_id:
        existing = Message.objects.filter(author_id=actor.pk, client_id=client_id).first()
        if existing is not None and existing.room_id == conversation.room_id:
            return existing
    locked = (
        Conversation.objects.select_for_update()
        .select_related("queue", "contact")
        .get(pk=conversation.pk)
    )
    if not note and locked.status == ConversationStatus.RESOLVED:
        raise _resolved_for_staff()
    mention_ids = _mentioned(locked, markup.clean(body), actor=actor) if note else []
    message, created = support_message_create(
        room=locked.room,
        author_id=actor.pk,
        by_contact=False,
        body=body,
        kind=MessageKind.NOTE if note else MessageKind.TEXT,
        client_id=client_id,
        attachment_ids=attachment_ids,
        mention_ids=mention_ids,
    )
    if not created:
        return message
    now = message.created_at
    locked.last_message_at = now
    fields = ["last_message_at", "updated_at"]
    if not note:
        locked.requeue_due_at = None
        fields.append("requeue_due_at")
    locked.save(update_fields=fields)
    if not note:
        sla.sla_on_agent_reply(conversation_id=locked.pk, now=now)
    if mention_ids:
        author = actor.get_full_name()
        _notify(
            users=list(User.objects.filter(pk__in=mention_ids).exclude(pk=actor.pk).order_by("pk")),
            kind=NotificationKind.SUPPORT_MENTION,
            source=f"support_mention:{message.pk}",
            title=lambda: _("%(name)s mentioned you in an internal note") % {"name": author},
            body=_body_preview(message.body),
            conversation=locked,
            actor_id=actor.pk,
        )
    inbox_events.message_created(message.pk)
    inbox_events.conversation_changed([locked.pk])
    if not note:
        signals.send_on_commit(
            signals.staff_message_sent,
            conversation_id=locked.pk,
            message_id=message.pk,
            channel=locked.channel,
        )
    return message


# --- Assignment and transfer -----------------------------------------------------------------


def _target_agent(organization_id: int, user_id: int) -> None:
    """The target is an org agent or admin (with an agent row); 404 inbox.agent_not_found."""
    from queueing.agents import agent_get_or_create

    agent_get_or_create(organization_id=organization_id, user_id=user_id)


def _reassign(
    conversation: Conversation,
    *,
    user_id: int,
    actor: Any,
    kind: str,
    data: dict[str, Any],
) -> Conversation:
    # assign_to takes it from the current assignee too (their count drops, in the same
    # transaction); a full target refuses the whole change.
    from queueing import routing

    return routing.assign_to(
        conversation=conversation, user_id=user_id, actor_id=actor.pk, kind=kind, data=data
    )


@transaction.atomic
def conversation_assign(*, actor: Any, conversation: Conversation, user_id: int) -> Conversation:
    """Assign the conversation to ``user_id`` (an agent taking it, or a manager assigning).

    An agent may take an unassigned conversation of their queue; otherwise the assignee or an
    org admin assigns. Reassigning unassigns the current agent first, in the same transaction:
    if the new agent is full the whole change is refused (409 ``inbox.agent_at_capacity``)
    and nothing changed. Assigning to the current assignee changes nothing.

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.agent_not_found``,
    ``inbox.agent_at_capacity``, ``inbox.conversation_resolved``.
    """
    inbox_access.require_see(actor, conversation)
    taking = user_id == actor.pk and inbox_access.can_take(actor, conversation)
    if not taking and not inbox_access.can_manage(actor, conversation):
        raise inbox_access.permission_denied()
    _target_agent(conversation.organization_id, user_id)
    current = Conversation.objects.get(pk=conversation.pk)
    if current.status == ConversationStatus.RESOLVED:
        raise _resolved_for_staff()
    if current.assignee_id == user_id:
        return current
    return _reassign(
        current,
        user_id=user_id,
        actor=actor,
        kind=ConversationEventKind.ASSIGNED,
        data={"from_user": current.assignee_id, "to_user": user_id},
    )


def _transfer_note(conversation: Conversation, *, actor: Any, target: str, note: str) -> Message:
    text = _("Transferred to %(target)s") % {"target": target}
    note = note.strip()
    if note:
        text = f"{text}: {note}"
    message, _created = support_message_create(
        room=conversation.room,
        author_id=actor.pk,
        by_contact=False,
        body=text,
        kind=MessageKind.NOTE,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    inbox_events.message_created(message.pk)
    return message


@transaction.atomic
def conversation_transfer(
    *,
    actor: Any,
    conversation: Conversation,
    to_user_id: int | None = None,
    to_queue_id: int | None = None,
    to_department_id: int | None = None,
    note: str = "",
) -> Conversation:
    """Hand the conversation to an agent, or move it to another queue or department.

    Exactly one target. To an agent: an org agent or admin of the same organization (else 404
    ``inbox.agent_not_found``) with free capacity (else 409 ``inbox.agent_at_capacity``: the
    transfer is refused and nothing changed). To a queue or department (its top-priority
    queue): the current assignee is released, the conversation moves and waits in the new
    queue, routed after commit. Stores the transfer as an internal note ("Transferred to X:
    note") and a TRANSFERRED event.

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.invalid_transfer`` (422),
    ``inbox.agent_not_found``, ``inbox.queue_not_found``, ``inbox.department_not_found``,
    ``inbox.agent_at_capacity``, ``inbox.conversation_resolved``.
    """
    from queueing import routing

    inbox_access.require_manage(actor, conversation)
    targets = [value for value in (to_user_id, to_queue_id, to_department_id) if value is not None]
    if len(targets) != 1:
        raise _invalid(
            "inbox.invalid_transfer", _("Transfer to exactly one agent, queue or department.")
        )
    if len(note) > MAX_COMMENT_LENGTH:
        raise _invalid(
            "inbox.note_too_long", _("The note is too long."), max_length=MAX_COMMENT_LENGTH
        )
    organization_id = conversation.organization_id
    current = Conversation.objects.select_related("queue").get(pk=conversation.pk)
    if current.status == ConversationStatus.RESOLVED:
        raise _resolved_for_staff()
    from_user = current.assignee_id
    from_queue = current.queue_id

    if to_user_id is not None:
        _target_agent(organization_id, to_user_id)
        if current.assignee_id == to_user_id:
            raise ConflictError(
                _("The conversation is already assigned to this agent."),
                code="inbox.already_assigned",
            )
        target_user = User.objects.get(pk=to_user_id)
        data = {"from_user": from_user, "to_user": to_user_id, "note": note.strip()}
        result = _reassign(
            current,
            user_id=to_user_id,
            actor=actor,
            kind=ConversationEventKind.TRANSFERRED,
            data=data,
        )
        _transfer_note(result, actor=actor, target=target_user.get_full_name(), note=note)
        return Conversation.objects.get(pk=result.pk)

    if to_department_id is not None:
        department = Department.objects.filter(
            pk=to_department_id, organization_id=organization_id
        ).first()
        if department is None:
            raise NotFoundError(_("Not found."), code="inbox.department_not_found")
        queue = (
            SupportQueue.objects.filter(department=department).order_by("-priority", "pk").first()
        )
        if queue is None:
            raise ConflictError(
                _("This department has no queue yet."), code="inbox.department_without_queue"
            )
        target_label = department.name
    else:
        queue = SupportQueue.objects.filter(
            pk=to_queue_id or 0, organization_id=organization_id
        ).first()
        if queue is None:
            raise NotFoundError(_("Not found."), code="inbox.queue_not_found")
        target_label = queue.name

    if current.assignee_id is not None:
        # Move first (under the conversation's lock, taken by unassign after the agent's), so
        # the re-route after commit looks in the new queue.
        current = routing.unassign(
            conversation=current,
            actor_id=actor.pk,
            kind=ConversationEventKind.UNASSIGNED,
            data={"from_user": current.assignee_id, "reason": ConversationEventKind.TRANSFERRED},
            requeue=True,
        )
    locked = Conversation.objects.select_for_update().get(pk=current.pk)
    locked.queue = queue
    if locked.status == ConversationStatus.OPEN and locked.waiting_since is None:
        locked.waiting_since = timezone.now()
    locked.save(update_fields=["queue", "waiting_since", "updated_at"])
    _event(
        locked,
        ConversationEventKind.TRANSFERRED,
        actor_id=actor.pk,
        data={
            "from_user": from_user,
            "from_queue": from_queue,
            "to_queue": queue.pk,
            "to_department": queue.department_id,
            "note": note.strip(),
        },
    )
    _transfer_note(locked, actor=actor, target=target_label, note=note)
    _changed(locked, positions=[from_queue, queue.pk])
    if from_user is None:
        _route_after_commit(locked.pk)
    return Conversation.objects.get(pk=locked.pk)


# --- Status ----------------------------------------------------------------------------------


def _resolve(
    locked: Conversation, *, actor_id: int | None, now: datetime.datetime, merged_into: Any = None
) -> None:
    """Resolve a locked conversation (agent row locked first): keep the assignee (CSAT and
    reopening name them), release their capacity."""
    from queueing import routing

    locked.status = ConversationStatus.RESOLVED
    locked.resolved_at = now
    locked.resolved_by_id = actor_id
    locked.waiting_since = None
    locked.snoozed_until = None
    locked.requeue_due_at = None
    fields = [
        "status",
        "resolved_at",
        "resolved_by",
        "waiting_since",
        "snoozed_until",
        "requeue_due_at",
        "updated_at",
    ]
    if merged_into is not None:
        locked.merged_into = merged_into
        fields.append("merged_into")
    locked.save(update_fields=fields)
    if locked.assignee_id is not None:
        routing.release_on_resolve(conversation=locked)


@transaction.atomic
def conversation_status_set(
    *,
    actor: Any,
    conversation: Conversation,
    status: str,
    snoozed_until: datetime.datetime | None = None,
) -> Conversation:
    """Set an unresolved conversation open, pending, snoozed (until a time) or resolved.

    Locks the assignee's agent row, then the conversation. Open and unassigned means waiting
    in line again (routed after commit). Resolving records who and when, closes the resolution
    SLA (``sla.sla_on_resolve``), releases the assignee's capacity
    (``routing.release_on_resolve``) and asks the contact for a rating
    (``widget.csat.requested``). The same status again changes nothing (a snooze may move).
    Records a STATUS event.

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.invalid_status``,
    ``inbox.invalid_snooze`` (422), ``inbox.conversation_resolved`` (409: use reopen).
    """
    from queueing import sla

    inbox_access.require_manage(actor, conversation)
    if status not in ConversationStatus.values:
        raise _invalid("inbox.invalid_status", _("Unknown status."))
    now = timezone.now()
    if status == ConversationStatus.SNOOZED:
        if snoozed_until is None or snoozed_until <= now:
            raise _invalid("inbox.invalid_snooze", _("Snooze until a time in the future."))
    elif snoozed_until is not None:
        raise _invalid("inbox.invalid_snooze", _("Only a snoozed conversation has a wake time."))
    locked = _lock(conversation)
    if locked.status == ConversationStatus.RESOLVED:
        raise _resolved_for_staff()
    old = locked.status
    if old == status and (
        status != ConversationStatus.SNOOZED or locked.snoozed_until == snoozed_until
    ):
        return locked
    was_waiting = locked.waiting_since is not None
    if status == ConversationStatus.RESOLVED:
        _resolve(locked, actor_id=actor.pk, now=now)
        sla.sla_on_resolve(conversation_id=locked.pk, now=now)
        inbox_events.csat_requested(locked.pk, locked.contact_id)
    else:
        locked.status = status
        locked.snoozed_until = snoozed_until if status == ConversationStatus.SNOOZED else None
        waiting = status == ConversationStatus.OPEN and locked.assignee_id is None
        locked.waiting_since = (locked.waiting_since or now) if waiting else None
        locked.save(update_fields=["status", "snoozed_until", "waiting_since", "updated_at"])
    data: dict[str, Any] = {"from": old, "to": status}
    if snoozed_until is not None:
        data["snoozed_until"] = snoozed_until.isoformat()
    _event(locked, ConversationEventKind.STATUS, actor_id=actor.pk, data=data, now=now)
    signals.send_on_commit(
        signals.conversation_status_changed,
        conversation_id=locked.pk,
        status=status,
        channel=locked.channel,
    )
    is_waiting = locked.waiting_since is not None
    _changed(locked, positions=[locked.queue_id] if was_waiting or is_waiting else [])
    if is_waiting and not was_waiting:
        _route_after_commit(locked.pk)
    return Conversation.objects.get(pk=locked.pk)


@transaction.atomic
def conversation_reopen(*, actor: Any, conversation: Conversation) -> Conversation:
    """Open a resolved conversation again (not a merged one).

    The last assignee gets it back when they have room (``routing.assign_to``); otherwise it
    waits in line and is routed after commit. Resolution SLA: ``sla.sla_on_reopen``. The
    contact may have started another conversation on the channel since: then it is refused
    (one unresolved conversation per contact and channel). Records a STATUS event.

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.not_resolved``,
    ``inbox.merged``, ``inbox.contact_has_open_conversation`` (409).
    """
    from queueing import routing, sla

    inbox_access.require_reopen(actor, conversation)
    locked = _lock(conversation)
    if locked.status != ConversationStatus.RESOLVED:
        raise ConflictError(_("This conversation is not resolved."), code="inbox.not_resolved")
    if locked.merged_into_id is not None:
        raise ConflictError(
            _("This conversation was merged into another one."), code="inbox.merged"
        )
    if _unresolved_of(locked.contact, locked.channel) is not None:
        raise ConflictError(
            _("The contact already has an open conversation."),
            code="inbox.contact_has_open_conversation",
        )
    now = timezone.now()
    previous = locked.assignee_id
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
    _event(
        locked,
        ConversationEventKind.STATUS,
        actor_id=actor.pk,
        data={"from": ConversationStatus.RESOLVED, "to": ConversationStatus.OPEN},
        now=now,
    )
    sla.sla_on_reopen(conversation_id=locked.pk, now=now)
    if previous is not None and inbox_access.is_agent(previous, locked.organization_id):
        try:
            with transaction.atomic():
                routing.assign_to(
                    conversation=locked,
                    user_id=previous,
                    actor_id=actor.pk,
                    kind=ConversationEventKind.ASSIGNED,
                    data={"from_user": None, "to_user": previous, "reason": "reopened"},
                )
        except ApplicationError:
            previous = None
    if previous is None:
        _route_after_commit(locked.pk)
    _changed(locked, positions=[locked.queue_id])
    return Conversation.objects.get(pk=locked.pk)


def labels_normalize(labels: Any) -> list[str]:
    """Lower-case, trimmed, unique (first kept), at most MAX_LABELS of MAX_LABEL_LENGTH."""
    if not isinstance(labels, (list, tuple)) or not all(isinstance(item, str) for item in labels):
        raise _invalid("inbox.invalid_labels", _("Labels are a list of words."))
    result: list[str] = []
    for item in labels:
        label = " ".join(item.split()).lower()
        if not label:
            continue
        if len(label) > MAX_LABEL_LENGTH:
            raise _invalid(
                "inbox.invalid_labels",
                _("A label has at most %(count)d characters.") % {"count": MAX_LABEL_LENGTH},
                max_length=MAX_LABEL_LENGTH,
            )
        if label not in result:
            result.append(label)
    if len(result) > MAX_LABELS:
        raise _invalid(
            "inbox.too_many_labels",
            _("At most %(count)d labels.") % {"count": MAX_LABELS},
            max_labels=MAX_LABELS,
        )
    return result


@transaction.atomic
def conversation_update(
    *,
    actor: Any,
    conversation: Conversation,
    priority: int | None = None,
    labels: Sequence[str] | None = None,
) -> Conversation:
    """Change the priority and/or labels (normalized: lower case, unique, at most 20).

    Locks the conversation; records PRIORITY and LABELS events for what changed; a waiting
    conversation's new priority moves it in line (positions re-sent).

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.invalid_priority``,
    ``inbox.invalid_labels``, ``inbox.too_many_labels`` (422).
    """
    inbox_access.require_manage(actor, conversation)
    if priority is not None and (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or priority not in ConversationPriority.values
    ):
        raise _invalid(
            "inbox.invalid_priority", _("Unknown priority."), allowed=ConversationPriority.values
        )
    new_labels = labels_normalize(labels) if labels is not None else None
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    now = timezone.now()
    fields: list[str] = []
    if priority is not None and priority != locked.priority:
        _event(
            locked,
            ConversationEventKind.PRIORITY,
            actor_id=actor.pk,
            data={"from": locked.priority, "to": priority},
            now=now,
        )
        locked.priority = priority
        fields.append("priority")
    if new_labels is not None and new_labels != list(locked.labels or []):
        _event(
            locked,
            ConversationEventKind.LABELS,
            actor_id=actor.pk,
            data={"from": list(locked.labels or []), "to": new_labels},
            now=now,
        )
        locked.labels = new_labels
        fields.append("labels")
    if not fields:
        return locked
    locked.save(update_fields=[*fields, "updated_at"])
    waiting = locked.waiting_since is not None and "priority" in fields
    _changed(locked, positions=[locked.queue_id] if waiting else [])
    return locked


# --- Merge -----------------------------------------------------------------------------------


@transaction.atomic
def conversation_merge(*, actor: Any, source: Conversation, target: Conversation) -> Conversation:
    """Merge ``source`` into ``target`` (the same contact's): one conversation remains.

    Locks both assignees' agent rows, then both conversations (by primary key). Moves the
    source's messages and attachments into the target's room, resolves the source with
    ``merged_into`` (its assignee's capacity released), keeps the target's status, and records
    a MERGED event on each. Returns the target.

    Raises ``inbox.not_found``, ``inbox.permission_denied``, ``inbox.merge_same`` (409),
    ``inbox.merge_different_contact`` (409), ``inbox.already_merged`` (409).
    """
    inbox_access.require_merge(actor, source, target)
    if source.pk == target.pk:
        raise ConflictError(
            _("A conversation cannot be merged into itself."), code="inbox.merge_same"
        )
    if source.organization_id != target.organization_id or source.contact_id != target.contact_id:
        raise ConflictError(
            _("Only conversations of the same contact can be merged."),
            code="inbox.merge_different_contact",
        )
    locked_source, locked_target = _lock_many([source, target])
    if locked_source.merged_into_id is not None or locked_target.merged_into_id is not None:
        raise ConflictError(_("This conversation was already merged."), code="inbox.already_merged")
    now = timezone.now()
    moved = Message.objects.filter(room_id=locked_source.room_id).update(
        room_id=locked_target.room_id
    )
    Attachment.objects.filter(room_id=locked_source.room_id).update(room_id=locked_target.room_id)
    last = max(
        (
            value
            for value in (locked_source.last_message_at, locked_target.last_message_at)
            if value
        ),
        default=None,
    )
    if last is not None and last != locked_target.last_message_at:
        locked_target.last_message_at = last
        locked_target.save(update_fields=["last_message_at", "updated_at"])
    was_waiting = locked_source.waiting_since is not None
    if locked_source.status == ConversationStatus.RESOLVED:
        locked_source.merged_into = locked_target
        locked_source.save(update_fields=["merged_into", "updated_at"])
    else:
        _resolve(locked_source, actor_id=actor.pk, now=now, merged_into=locked_target)
    _event(
        locked_source,
        ConversationEventKind.MERGED,
        actor_id=actor.pk,
        data={"into": locked_target.pk, "messages": moved},
        now=now,
    )
    _event(
        locked_target,
        ConversationEventKind.MERGED,
        actor_id=actor.pk,
        data={"from": locked_source.pk, "messages": moved},
        now=now,
    )
    inbox_events.conversation_changed([locked_source.pk, locked_target.pk])
    if was_waiting:
        inbox_events.queue_positions_changed(locked_source.queue_id)
    inbox_events.supervisor_changed(locked_target.organization_id)
    return Conversation.objects.get(pk=locked_target.pk)


# --- Snoozes ---------------------------------------------------------------------------------


def wake_snoozed(*, now: datetime.datetime | None = None) -> int:
    """Open the snoozed conversations whose time came (periodic, safe in two workers).

    Batches of WAKE_BATCH rows locked with ``skip_locked`` (a row another worker holds is
    left for it), re-checked under the lock. An unassigned one waits in line again and is
    routed after commit. Records a STATUS event each. Returns how many woke.
    """
    now = now or timezone.now()
    woken = 0
    while True:
        with transaction.atomic():
            batch = list(
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=now)
                .order_by("snoozed_until", "pk")[:WAKE_BATCH]
            )
            if not batch:
                return woken
            queues: set[int] = set()
            for conversation in batch:
                conversation.status = ConversationStatus.OPEN
                conversation.snoozed_until = None
                if conversation.assignee_id is None:
                    conversation.waiting_since = now
                    queues.add(conversation.queue_id)
                    _route_after_commit(conversation.pk)
                conversation.save(
                    update_fields=["status", "snoozed_until", "waiting_since", "updated_at"]
                )
                _event(
                    conversation,
                    ConversationEventKind.STATUS,
                    actor_id=None,
                    data={"from": ConversationStatus.SNOOZED, "to": ConversationStatus.OPEN},
                    now=now,
                )
            inbox_events.conversation_changed([item.pk for item in batch])
            for queue_id in sorted(queues):
                inbox_events.queue_positions_changed(queue_id)
            for organization_id in sorted({item.organization_id for item in batch}):
                inbox_events.supervisor_changed(organization_id)
            woken += len(batch)
        if len(batch) < WAKE_BATCH:
            return woken


# --- The contact's side: CSAT, transcript, offline form -------------------------------------


def _contact_conversation(contact: Contact, conversation: Conversation) -> None:
    if conversation.contact_id != contact.pk or conversation.organization_id != (
        contact.organization_id
    ):
        raise _widget_not_found()


@transaction.atomic
def csat_submit(
    *, contact: Contact, conversation: Conversation, rating: int, comment: str = ""
) -> CsatResponse:
    """The contact rates their resolved conversation, once, 1 to 5 (credited to its agent).

    Locks the conversation. Records a CSAT event and emits the conversation's update.

    Raises ``widget.not_found`` (404), ``widget.invalid_rating`` (422),
    ``widget.comment_too_long`` (422), ``widget.not_resolved`` (409: open or merged),
    ``widget.already_rated`` (409).
    """
    _contact_conversation(contact, conversation)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise _invalid("widget.invalid_rating", _("Rate from 1 to 5 stars."), min=1, max=5)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise _invalid(
            "widget.comment_too_long",
            _("The comment is too long."),
            max_length=MAX_COMMENT_LENGTH,
        )
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != ConversationStatus.RESOLVED or locked.merged_into_id is not None:
        raise ConflictError(
            _("Only a finished conversation can be rated."), code="widget.not_resolved"
        )
    if CsatResponse.objects.filter(conversation=locked).exists():
        raise ConflictError(_("You already rated this conversation."), code="widget.already_rated")
    csat = CsatResponse.objects.create(
        conversation=locked,
        organization_id=locked.organization_id,
        agent_id=locked.assignee_id,
        rating=rating,
        comment=comment,
    )
    _event(
        locked,
        ConversationEventKind.CSAT,
        actor_id=contact.user_id,
        data={"rating": rating, "agent": locked.assignee_id},
        now=csat.created_at,
    )
    inbox_events.conversation_changed([locked.pk])
    return csat


def transcript_lines(conversation: Conversation) -> list[dict[str, Any]]:
    """What the contact sees of the conversation, oldest first: never a note or a deletion."""
    from queueing.inbox_selectors import conversation_messages

    contact_name = _contact_label(conversation.contact)
    zone = _zone(conversation)
    lines = []
    for message in conversation_messages(conversation=conversation, for_contact=True):
        if message.deleted_at is not None:
            continue
        if message.by_contact:
            who = contact_name
        elif message.author is not None:
            who = first_name(message.author)
        else:
            who = conversation.organization.name
        lines.append(
            {
                "who": who,
                "by_contact": message.by_contact,
                "time": timezone.localtime(message.created_at, zone),
                "text": markup.plain_text(message.body, names={}),
                "attachments": [item.name for item in message.attachments.all()],
            }
        )
    return lines


def _zone(conversation: Conversation) -> Any:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(conversation.queue.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _send_email(
    *, to: list[str], subject: str, template: str, context: dict[str, Any], reply_to: str = ""
) -> None:
    text = render_to_string(f"email/{template}.txt", context)
    html = render_to_string(f"email/{template}.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[reply_to] if reply_to else None,
    )
    email.attach_alternative(html, "text/html")
    try:
        email.send()
    except Exception:  # after commit: a mail server failure must not undo anything
        logger.exception("support email not sent", extra={"template": template})


def _clean_email(value: str | None) -> str:
    email = (value or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise _invalid("widget.invalid_email", _("Enter a valid email address.")) from exc
    return email


def transcript_send(
    *, contact: Contact, conversation: Conversation, email: str | None = None
) -> None:
    """Email the contact what was said (never a note), after commit.

    To ``email``, or the contact's own address. The content is read now; the email goes out
    once the surrounding transaction (if any) commits.

    Raises ``widget.not_found`` (404), ``widget.invalid_email`` (422: none or not valid).
    """
    _contact_conversation(contact, conversation)
    to = _clean_email(email if email is not None and email.strip() else contact.email)
    conversation = Conversation.objects.select_related("organization", "contact", "queue").get(
        pk=conversation.pk
    )
    organization = conversation.organization
    subject = _("Your conversation with %(organization)s") % {"organization": organization.name}
    context = {
        "organization": organization.name,
        "name": _contact_label(contact),
        "started_at": timezone.localtime(conversation.created_at, _zone(conversation)),
        "lines": transcript_lines(conversation),
        "language": translation.get_language(),
    }
    transaction.on_commit(
        lambda: _send_email(
            to=[to], subject=subject, template="support_transcript", context=context
        )
    )


def _offline_recipients(organization_id: int) -> list[str]:
    widget = SupportWidget.objects.filter(organization_id=organization_id).first()
    if widget is not None and widget.offline_email:
        return [widget.offline_email]
    return list(
        Membership.objects.filter(organization_id=organization_id, role=Role.ORG_ADMIN)
        .exclude(Q(user__email="") | Q(user__is_active=False))
        .order_by("user_id")
        .values_list("user__email", flat=True)
    )


@transaction.atomic
def offline_message(
    *, contact: Contact, department_id: int | None, body: str, name: str, email: str
) -> Conversation:
    """A message left while nobody answers: a conversation kept for later, and an email.

    Updates the contact's name and email, starts an ``offline`` conversation on the widget
    channel (``conversation_start``: it waits in line and is routed when agents are
    available; a contact with an unresolved conversation gets the message added to it) and,
    after commit, emails the widget's ``offline_email`` or the organization's admins.

    Raises ``widget.invalid_email``, ``widget.invalid_name`` and ``conversation_start``'s
    errors.
    """
    clean_name = " ".join((name or "").split())[:150]
    if not clean_name:
        raise _invalid("widget.invalid_name", _("Tell us your name."))
    clean_email = _clean_email(email)
    if contact.name != clean_name or contact.email != clean_email:
        contact.name = clean_name
        contact.email = clean_email
        contact.save(update_fields=["name", "email", "updated_at"])
    conversation, _created = conversation_start(
        contact=contact,
        channel=ConversationChannel.WIDGET,
        department_id=department_id,
        body=body,
        offline=True,
    )
    conversation = Conversation.objects.select_related(
        "organization", "queue", "queue__department"
    ).get(pk=conversation.pk)
    organization: Organization = conversation.organization
    recipients = _offline_recipients(organization.pk)
    if recipients:
        context = {
            "organization": organization.name,
            "name": clean_name,
            "email": clean_email,
            "department": conversation.queue.department.name,
            "body": markup.clean(body),
            "url": f"{settings.SITE_URL}{_conversation_url(conversation.pk)}",
            "language": translation.get_language(),
        }
        subject = _("New offline message from %(name)s") % {"name": clean_name}
        transaction.on_commit(
            lambda: _send_email(
                to=recipients,
                subject=subject,
                template="support_offline",
                context=context,
                reply_to=clean_email,
            )
        )
    return conversation
