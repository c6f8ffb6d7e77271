"""Reads of the support inbox: conversation lists and payloads, positions, snapshots.

Lists take a fixed number of queries whatever their length (contact, queue, department,
assignee and CSAT are joined; the last message preview is a subquery). Visibility comes from
``queueing.inbox_access``; the contact-facing shapes never carry an internal note.
"""

from __future__ import annotations

import datetime
from typing import Any, TypedDict

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from chat import markup
from chat.models import Message, MessageKind
from chat.support import first_name
from queueing import inbox_access
from queueing.models import (
    AgentAvailability,
    CannedResponse,
    Contact,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Department,
    QueueMember,
    SlaStatus,
    SupportAgent,
    SupportQueue,
)

VIEWS = ("mine", "unassigned", "all")
PREVIEW_LENGTH = 140
# How many recent assignments the waiting-time estimate averages.
ESTIMATE_SAMPLE = 20
ESTIMATE_WINDOW = datetime.timedelta(hours=24)


class Ref(TypedDict):
    id: int
    name: str


class ContactBrief(TypedDict):
    id: int
    name: str
    email: str


class CsatData(TypedDict):
    rating: int
    comment: str


class ConversationData(TypedDict):
    id: int
    organization_id: int
    contact: ContactBrief
    channel: str
    status: str
    priority: int
    labels: list[str]
    subject: str
    queue: Ref
    department: Ref
    assignee: Ref | None
    assigned_at: datetime.datetime | None
    waiting_since: datetime.datetime | None
    snoozed_until: datetime.datetime | None
    offline: bool
    sla: dict[str, Any]
    last_message_at: datetime.datetime | None
    last_message_preview: str
    merged_into_id: int | None
    created_at: datetime.datetime
    csat: CsatData | None


class WidgetConversationData(TypedDict):
    id: int
    status: str
    assignee_name: str | None
    position: int | None
    estimated_wait_seconds: int | None
    csat_requested: bool
    rated: bool


# --- Conversations --------------------------------------------------------------------------


def _last_message(field: str) -> Subquery:
    return Subquery(
        Message.objects.filter(room_id=OuterRef("room_id"), deleted_at__isnull=True)
        .order_by("-id")
        .values(field)[:1]
    )


def with_conversation_relations(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Everything ``conversation_data`` reads, in the same query."""
    return conversations.select_related(
        "contact", "queue", "queue__department", "assignee", "csat"
    ).annotate(last_body=_last_message("body"))


def preview(body: str | None) -> str:
    text = markup.plain_text(body or "", names={})
    text = " ".join(text.split())
    if len(text) > PREVIEW_LENGTH:
        return text[: PREVIEW_LENGTH - 1].rstrip() + "…"
    return text


def _csat(conversation: Conversation) -> CsatData | None:
    try:
        csat: CsatResponse = conversation.csat  # type: ignore[attr-defined]
    except CsatResponse.DoesNotExist:
        return None
    return {"rating": csat.rating, "comment": csat.comment}


def sla_payload(conversation: Conversation) -> dict[str, Any]:
    from queueing import sla

    return dict(sla.sla_payload(conversation))


def conversation_data(conversation: Conversation) -> ConversationData:
    """The staff shape of a conversation (notes count for the preview: staff see them)."""
    if hasattr(conversation, "last_body"):
        last_body = conversation.last_body
    else:
        last_body = (
            Message.objects.filter(room_id=conversation.room_id, deleted_at__isnull=True)
            .order_by("-id")
            .values_list("body", flat=True)
            .first()
        )
    queue = conversation.queue
    department = queue.department
    assignee = conversation.assignee
    contact = conversation.contact
    return {
        "id": conversation.pk,
        "organization_id": conversation.organization_id,
        "contact": {"id": contact.pk, "name": contact.name, "email": contact.email},
        "channel": conversation.channel,
        "status": conversation.status,
        "priority": conversation.priority,
        "labels": list(conversation.labels or []),
        "subject": conversation.subject,
        "queue": {"id": queue.pk, "name": queue.name},
        "department": {"id": department.pk, "name": department.name},
        "assignee": {"id": assignee.pk, "name": assignee.get_full_name()}
        if assignee is not None
        else None,
        "assigned_at": conversation.assigned_at,
        "waiting_since": conversation.waiting_since,
        "snoozed_until": conversation.snoozed_until,
        "offline": conversation.offline,
        "sla": sla_payload(conversation),
        "last_message_at": conversation.last_message_at,
        "last_message_preview": preview(last_body),
        "merged_into_id": conversation.merged_into_id,
        "created_at": conversation.created_at,
        "csat": _csat(conversation),
    }


def conversation_data_by_id(conversation_id: int) -> ConversationData | None:
    conversation = with_conversation_relations(
        Conversation.objects.filter(pk=conversation_id)
    ).first()
    return conversation_data(conversation) if conversation is not None else None


def is_rated(conversation: Conversation) -> bool:
    return _csat(conversation) is not None


def widget_conversation_data(conversation: Conversation) -> WidgetConversationData:
    """The contact's shape of a conversation: no notes, no staff ids, the agent's first name."""
    position = queue_position(conversation)
    rated = is_rated(conversation)
    resolved = conversation.status == ConversationStatus.RESOLVED
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "assignee_name": first_name(conversation.assignee)
        if conversation.assignee is not None
        else None,
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds(conversation.queue, position=position)
        if position is not None
        else None,
        # Merged conversations were resolved by staff housekeeping, not answered.
        "csat_requested": resolved and conversation.merged_into_id is None and not rated,
        "rated": rated,
    }


def conversation_list(
    *,
    user: Any,
    organization_id: int,
    view: str = "all",
    queue_id: int | None = None,
    department_id: int | None = None,
    status: str | None = None,
    q: str | None = None,
) -> QuerySet[Conversation]:
    """The conversations ``user`` sees, filtered, most recent activity first.

    ``view``: ``mine`` (assigned to the user), ``unassigned`` (unresolved, nobody assigned),
    ``all``. ``status``: one status, or ``unresolved``. ``q`` searches the contact's name and
    email and the subject. Unknown view or status: nothing. One query, whatever the length
    (plus the visibility check's membership lookup).
    """
    conversations = inbox_access.conversations_visible(user, organization_id)
    if view == "mine":
        conversations = conversations.filter(assignee_id=user.pk)
    elif view == "unassigned":
        conversations = conversations.filter(assignee__isnull=True, status__in=_unresolved_values())
    elif view != "all":
        return conversations.none()
    if queue_id is not None:
        conversations = conversations.filter(queue_id=queue_id)
    if department_id is not None:
        conversations = conversations.filter(queue__department_id=department_id)
    if status == "unresolved":
        conversations = conversations.filter(status__in=_unresolved_values())
    elif status:
        if status not in ConversationStatus.values:
            return conversations.none()
        conversations = conversations.filter(status=status)
    if q:
        term = q.strip()
        conversations = conversations.filter(
            Q(contact__name__icontains=term)
            | Q(contact__email__icontains=term)
            | Q(subject__icontains=term)
        )
    return with_conversation_relations(conversations).order_by("-last_message_at", "-id")


def _unresolved_values() -> list[str]:
    return [
        ConversationStatus.OPEN.value,
        ConversationStatus.PENDING.value,
        ConversationStatus.SNOOZED.value,
    ]


def conversation_messages(
    *, conversation: Conversation, after_id: int | None = None, for_contact: bool
) -> QuerySet[Message]:
    """The conversation's messages, oldest first; for the contact never a note."""
    messages = Message.objects.filter(room_id=conversation.room_id, parent__isnull=True)
    if for_contact:
        messages = messages.exclude(kind=MessageKind.NOTE)
    if after_id is not None:
        messages = messages.filter(pk__gt=after_id)
    return messages.select_related("author").prefetch_related("attachments").order_by("pk")


def conversation_events(*, conversation: Conversation) -> QuerySet[Any]:
    from queueing.models import ConversationEvent

    return (
        ConversationEvent.objects.filter(conversation_id=conversation.pk)
        .select_related("actor")
        .order_by("id")
    )


def contact_detail(contact: Contact, *, user: Any | None = None) -> dict[str, Any]:
    """The contact and their conversations, newest first (those ``user`` sees, if given)."""
    conversations = Conversation.objects.filter(contact_id=contact.pk)
    if user is not None:
        conversations = conversations.filter(
            pk__in=inbox_access.conversations_visible(user, contact.organization_id).values("pk")
        )
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "user_id": contact.user_id,
        "created_at": contact.created_at,
        "last_seen_at": contact.last_seen_at,
        "conversations": [
            conversation_data(item)
            for item in with_conversation_relations(conversations).order_by("-created_at", "-id")
        ],
    }


def contact_get_visible(*, user: Any, organization_id: int, contact_id: int) -> Contact:
    """A contact with at least one conversation ``user`` sees (admins: any); 404 otherwise."""
    contact = Contact.objects.filter(pk=contact_id, organization_id=organization_id).first()
    role = inbox_access.staff_role(user, organization_id)
    if contact is None or role is None:
        raise inbox_access.not_found()
    if role == "agent":
        visible = inbox_access.conversations_visible(user, organization_id).filter(contact=contact)
        if not visible.exists():
            raise inbox_access.not_found()
    return contact


# --- Queue positions ------------------------------------------------------------------------


def _waiting(queue_id: int) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        queue_id=queue_id, waiting_since__isnull=False, status=ConversationStatus.OPEN
    )


def queue_position(conversation: Conversation) -> int | None:
    """1-based place in its queue's line (priority first, then the oldest), or None."""
    if conversation.waiting_since is None or conversation.status != ConversationStatus.OPEN:
        return None
    ahead = (
        _waiting(conversation.queue_id)
        .filter(
            Q(priority__gt=conversation.priority)
            | Q(priority=conversation.priority, waiting_since__lt=conversation.waiting_since)
            | Q(
                priority=conversation.priority,
                waiting_since=conversation.waiting_since,
                pk__lt=conversation.pk,
            )
        )
        .count()
    )
    return ahead + 1


def queue_line(queue_id: int) -> list[Conversation]:
    """The queue's waiting conversations in line order."""
    return list(
        _waiting(queue_id).select_related("contact").order_by("-priority", "waiting_since", "pk")
    )


def average_wait_seconds(queue: SupportQueue) -> float | None:
    """The queue's recent average wait: its last ESTIMATE_SAMPLE conversations assigned within
    ESTIMATE_WINDOW (assignment minus creation); None when there are none to learn from."""
    since = timezone.now() - ESTIMATE_WINDOW
    samples = list(
        Conversation.objects.filter(queue_id=queue.pk, assigned_at__gte=since)
        .order_by("-assigned_at", "-pk")
        .values_list("created_at", "assigned_at")[:ESTIMATE_SAMPLE]
    )
    waits = [
        max(0.0, (assigned - created).total_seconds()) for created, assigned in samples if assigned
    ]
    if not waits:
        return None
    return sum(waits) / len(waits)


def estimate(average: float | None, position: int | None) -> int | None:
    if average is None or position is None:
        return None
    return round(average * position)


def estimated_wait_seconds(queue: SupportQueue, *, position: int | None = 1) -> int | None:
    """About how long the ``position``-th in line waits: the recent average wait times position."""
    if position is None:
        return None
    return estimate(average_wait_seconds(queue), position)


# --- Supervisor -----------------------------------------------------------------------------


def supervisor_snapshot(organization_id: int) -> dict[str, Any]:
    """Every queue's load and every agent's state, for the supervisor screen. Two queries."""
    unresolved = _unresolved_values()
    queues = (
        SupportQueue.objects.filter(organization_id=organization_id)
        .select_related("department")
        .annotate(
            waiting=Count(
                "conversations",
                filter=Q(
                    conversations__waiting_since__isnull=False,
                    conversations__status=ConversationStatus.OPEN,
                ),
            ),
            open=Count("conversations", filter=Q(conversations__status__in=unresolved)),
            oldest_waiting_since=Min(
                "conversations__waiting_since",
                filter=Q(conversations__status=ConversationStatus.OPEN),
            ),
            breached=Count(
                "conversations",
                filter=Q(conversations__status__in=unresolved)
                & (
                    Q(conversations__first_response_status=SlaStatus.BREACHED)
                    | Q(conversations__resolution_status=SlaStatus.BREACHED)
                ),
            ),
        )
        .order_by("department__name", "-priority", "name", "pk")
    )
    agents = (
        SupportAgent.objects.filter(
            organization_id=organization_id,
            user__memberships__organization_id=organization_id,
            user__memberships__role__in=inbox_access.AGENT_ROLES,
        )
        .select_related("user")
        .order_by("user__display_name", "user__email", "pk")
    )
    return {
        "queues": [
            {
                "id": item.pk,
                "name": item.name,
                "department": {"id": item.department.pk, "name": item.department.name},
                "waiting": item.waiting,  # type: ignore[attr-defined]
                "open": item.open,  # type: ignore[attr-defined]
                "oldest_waiting_since": item.oldest_waiting_since,  # type: ignore[attr-defined]
                "breached": item.breached,  # type: ignore[attr-defined]
            }
            for item in queues
        ],
        "agents": [
            {
                "user_id": agent.user_id,
                "name": agent.user.get_full_name(),
                "availability": agent.availability,
                "connected": agent.connected,
                "available": agent.availability == AgentAvailability.ONLINE
                and agent.connected
                and agent.open_count < agent.capacity,
                "open_count": agent.open_count,
                "capacity": agent.capacity,
            }
            for agent in agents
        ],
    }


# --- Canned responses -----------------------------------------------------------------------


def canned_list(organization_id: int, q: str | None = None) -> QuerySet[CannedResponse]:
    """The organization's canned responses by shortcut; ``q`` matches shortcut, title or text."""
    responses = CannedResponse.objects.filter(organization_id=organization_id)
    if q:
        term = q.strip().lstrip("/")
        responses = responses.filter(
            Q(shortcut__icontains=term) | Q(title__icontains=term) | Q(body__icontains=term)
        )
    return responses.order_by("shortcut", "pk")


def canned_data(response: CannedResponse) -> dict[str, Any]:
    return {
        "id": response.pk,
        "shortcut": response.shortcut,
        "title": response.title,
        "body": response.body,
        "created_by_id": response.created_by_id,
        "created_at": response.created_at,
        "updated_at": response.updated_at,
    }


def contact_has_unresolved(contact_id: int) -> bool:
    return Conversation.objects.filter(
        contact_id=contact_id, status__in=_unresolved_values()
    ).exists()


# --- Configuration and files, for the staff API -----------------------------------------------


def _members_by_name(members: QuerySet[QueueMember]) -> QuerySet[QueueMember]:
    return members.select_related("user").order_by("user__display_name", "user__email", "pk")


def queues_with_members(*, organization_id: int) -> list[tuple[SupportQueue, list[QueueMember]]]:
    """The organization's queues (by department, priority, name) with their members: two
    queries."""
    queues = list(
        SupportQueue.objects.filter(organization_id=organization_id).order_by(
            "department__name", "-priority", "name", "pk"
        )
    )
    members: dict[int, list[QueueMember]] = {}
    for member in _members_by_name(
        QueueMember.objects.filter(queue__organization_id=organization_id)
    ):
        members.setdefault(member.queue_id, []).append(member)
    return [(queue, members.get(queue.pk, [])) for queue in queues]


def queue_members(*, queue_id: int) -> list[QueueMember]:
    return list(_members_by_name(QueueMember.objects.filter(queue_id=queue_id)))


def agents_with_state(*, organization_id: int) -> list[tuple[Any, SupportAgent | None]]:
    """Every org agent and admin, by name, with their inbox row (None before they have one):
    two queries."""
    from accounts.models import Membership

    memberships = (
        Membership.objects.filter(
            organization_id=organization_id, role__in=inbox_access.AGENT_ROLES
        )
        .select_related("user")
        .order_by("user__display_name", "user__email", "pk")
    )
    rows = {
        agent.user_id: agent
        for agent in SupportAgent.objects.filter(organization_id=organization_id)
    }
    return [(membership.user, rows.get(membership.user_id)) for membership in memberships]


def agent_user(*, organization_id: int, user_id: int) -> Any:
    """The member ``user_id`` of the organization (the caller checked they belong)."""
    from accounts.models import Membership

    return (
        Membership.objects.select_related("user")
        .get(organization_id=organization_id, user_id=user_id)
        .user
    )


def department_list(*, organization_id: int) -> QuerySet[Department]:
    return Department.objects.filter(organization_id=organization_id).order_by("name", "pk")


def attachment_visible(*, user: Any, organization_id: int, attachment_id: int) -> Any:
    """A support attachment of a conversation ``user`` sees (an unsent upload: only its
    uploader's; a deleted message's files: nobody's), or None."""
    from chat.models import Attachment

    visible = inbox_access.conversations_visible(user, organization_id)
    return (
        Attachment.objects.filter(
            pk=attachment_id,
            organization_id=organization_id,
            room__support_conversation__in=visible,
        )
        .filter(
            Q(message__isnull=False, message__deleted_at__isnull=True)
            | Q(message__isnull=True, uploaded_by_id=user.pk)
        )
        .first()
    )


def staff_client_id_used(*, user_id: int, client_id: str) -> bool:
    """Whether a staff member already sent a message with this ``client_id`` (a retry)."""
    return Message.objects.filter(author_id=user_id, client_id=client_id).exists()
