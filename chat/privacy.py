"""Chat's part of a person's data export (LGPD Art. 18, II).

Registered with ``accounts.privacy`` from ``ChatConfig.ready()``. What the person wrote,
uploaded and set, and what was recorded about them (notifications, online time); other
people's messages are theirs, not this person's. One query per kind of record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chat.models import Attachment, Message, Notification, OnlineDay, Reaction, UserChatSettings


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def chat_data_export(user: Any) -> dict[str, Any]:
    """The person's messages, reactions, uploads, chat settings, notifications, online days."""
    settings_row = UserChatSettings.objects.filter(user=user).first()
    return {
        "messages": [
            {
                "id": message.pk,
                "room_id": message.room_id,
                "room_name": message.room.name,
                "parent_id": message.parent_id,
                "kind": message.kind,
                "body": message.body,
                "created_at": _when(message.created_at),
                "edited_at": _when(message.edited_at),
                "deleted_at": _when(message.deleted_at),
            }
            for message in Message.objects.filter(author=user)
            .select_related("room")
            .order_by("created_at", "pk")
        ],
        "reactions": [
            {
                "message_id": reaction.message_id,
                "emoji": reaction.emoji,
                "created_at": _when(reaction.created_at),
            }
            for reaction in Reaction.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "attachments": [
            {
                "id": attachment.pk,
                "room_id": attachment.room_id,
                "message_id": attachment.message_id,
                "name": attachment.name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "created_at": _when(attachment.created_at),
            }
            for attachment in Attachment.objects.filter(uploaded_by=user).order_by(
                "created_at", "pk"
            )
        ],
        "settings": None
        if settings_row is None
        else {
            "status_text": settings_row.status_text,
            "status_emoji": settings_row.status_emoji,
            "status_expires_at": _when(settings_row.status_expires_at),
            "dnd_until": _when(settings_row.dnd_until),
            "dnd_schedule": settings_row.dnd_schedule,
            "sound_enabled": settings_row.sound_enabled,
            "desktop_enabled": settings_row.desktop_enabled,
            "email_enabled": settings_row.email_enabled,
        },
        "notifications": [
            {
                "kind": notification.kind,
                "title": notification.title,
                "body": notification.body,
                "created_at": _when(notification.created_at),
                "read_at": _when(notification.read_at),
                "emailed_at": _when(notification.emailed_at),
            }
            for notification in Notification.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "online_days": [
            {
                "day": day.day.isoformat(),
                "online_seconds": day.online_seconds,
                "active_seconds": day.active_seconds,
                "first_seen_at": _when(day.first_seen_at),
                "last_seen_at": _when(day.last_seen_at),
            }
            for day in OnlineDay.objects.filter(user=user).order_by("day")
        ],
    }
