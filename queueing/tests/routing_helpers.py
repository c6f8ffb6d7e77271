"""What the routing and agent tests share: an events spy and row snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Notification
from queueing.models import Conversation, ConversationEvent, SupportAgent

EVENT_FUNCTIONS = ("conversation_changed", "queue_positions_changed", "supervisor_changed")


def spy_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record which inbox events routing asks for, in order (the payloads are inbox_events'
    business and tested there); nothing is published."""
    from queueing import inbox_events

    asked: list[tuple[str, Any]] = []
    for name in EVENT_FUNCTIONS:

        def record(argument: Any, _name: str = name) -> None:
            asked.append((_name, list(argument) if isinstance(argument, list) else argument))

        monkeypatch.setattr(inbox_events, name, record)
    return asked


def assigned_events(conversation_id: int, queue_id: int, organization_id: int) -> list[Any]:
    return [
        ("conversation_changed", [conversation_id]),
        ("queue_positions_changed", queue_id),
        ("supervisor_changed", organization_id),
    ]


def state(conversation: Conversation) -> dict[str, Any]:
    """The routing fields of the conversation as stored now."""
    return (
        Conversation.objects.filter(pk=conversation.pk)
        .values("assignee_id", "assigned_at", "waiting_since", "requeue_due_at", "status")
        .get()
    )


def load(user_id: int) -> dict[str, Any]:
    """The agent's counters as stored now."""
    return (
        SupportAgent.objects.filter(user_id=user_id)
        .values("open_count", "capacity", "last_assigned_at")
        .get()
    )


def event_rows(conversation: Conversation | None = None) -> list[dict[str, Any]]:
    rows = ConversationEvent.objects.order_by("id")
    if conversation is not None:
        rows = rows.filter(conversation=conversation)
    return list(rows.values("conversation_id", "kind", "actor_id", "data", "created_at"))


def notification_rows() -> list[dict[str, Any]]:
    return list(
        Notification.objects.order_by("id").values(
            "user_id", "kind", "title", "body", "url", "data", "actor_id", "room_id"
        )
    )


def real_open_count(user_id: int) -> int:
    return Conversation.objects.filter(
        assignee_id=user_id, status__in=("open", "pending", "snoozed")
    ).count()
