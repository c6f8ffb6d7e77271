"""Builders shared by the support inbox's tests.

Rows are created directly (not through the services) so each test sets up exactly the state
it needs; the services under test are then called on it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from chat.models import Room, RoomKind
from queueing.models import (
    AgentAvailability,
    Contact,
    Conversation,
    ConversationChannel,
    ConversationStatus,
    Department,
    QueueMember,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)

T0 = datetime.datetime(2026, 3, 9, 13, 0, tzinfo=datetime.UTC)  # a Monday, 10:00 in São Paulo


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def organization(**fields: Any) -> Organization:
    return OrganizationFactory(**fields)


def member(org: Organization, *, role: str = Role.AGENT, **user_fields: Any) -> User:
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organization=org, role=role)
    return user


def department(org: Organization, name: str = "Suporte", **fields: Any) -> Department:
    return Department.objects.create(organization=org, name=name, **fields)


def queue(
    org: Organization,
    *,
    dept: Department | None = None,
    name: str = "Geral",
    strategy: str = "round_robin",
    **fields: Any,
) -> SupportQueue:
    dept = dept or Department.objects.filter(organization=org).first() or department(org)
    return SupportQueue.objects.create(
        organization=org, department=dept, name=name, routing_strategy=strategy, **fields
    )


def agent(
    org: Organization,
    *queues: SupportQueue,
    capacity: int = 5,
    online: bool = True,
    skills: list[str] | None = None,
    role: str = Role.AGENT,
    supervisor: bool = False,
    **user_fields: Any,
) -> User:
    """An org member serving ``queues``; ``online`` means available and connected."""
    user = member(org, role=role, **user_fields)
    SupportAgent.objects.create(
        organization=org,
        user=user,
        capacity=capacity,
        availability=AgentAvailability.ONLINE if online else AgentAvailability.OFFLINE,
        connected=online,
        skills=skills or [],
    )
    for item in queues:
        QueueMember.objects.create(queue=item, user=user, is_supervisor=supervisor)
    return user


def contact(org: Organization, **fields: Any) -> Contact:
    fields.setdefault("name", "Visitante")
    fields.setdefault("email", "visitante@example.com")
    return Contact.objects.create(organization=org, **fields)


def conversation(
    support_queue: SupportQueue,
    *,
    who: Contact | None = None,
    assignee: User | None = None,
    status: str = ConversationStatus.OPEN,
    priority: int = 1,
    channel: str = ConversationChannel.WIDGET,
    waiting_since: datetime.datetime | None = None,
    **fields: Any,
) -> Conversation:
    """A conversation in ``support_queue``: waiting (open, unassigned) unless assigned."""
    org = support_queue.organization
    who = who or contact(org)
    room = Room.objects.create(organization=org, kind=RoomKind.SUPPORT)
    now = timezone.now()
    waiting = status == ConversationStatus.OPEN and assignee is None
    conv = Conversation.objects.create(
        organization=org,
        contact=who,
        room=room,
        channel=channel,
        status=status,
        priority=priority,
        queue=support_queue,
        assignee=assignee,
        assigned_at=now if assignee is not None else None,
        waiting_since=(waiting_since or now) if waiting else None,
        **fields,
    )
    if assignee is not None and status != ConversationStatus.RESOLVED:
        SupportAgent.objects.filter(organization=org, user=assignee).update(
            open_count=Conversation.objects.filter(
                assignee=assignee,
                status__in=(
                    ConversationStatus.OPEN,
                    ConversationStatus.PENDING,
                    ConversationStatus.SNOOZED,
                ),
            ).count()
        )
    return conv


def widget(org: Organization, origins: list[str] | None = None, **fields: Any) -> SupportWidget:
    return SupportWidget.objects.create(
        organization=org, allowed_origins=origins or ["https://example.com"], **fields
    )
