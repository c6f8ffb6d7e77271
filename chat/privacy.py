"""Chat's part of a person's data export (LGPD Art. 18, II).

Registered with ``accounts.privacy`` from ``ChatConfig.ready()``. What the person wrote,
uploaded and set, and what was recorded about them (notifications, online time); other
people's messages are theirs, not this person's. One query per kind of record.
"""

from __future__ import annotations

from typing import Any

from accounts.privacy import export_time
from chat.models import Attachment, Message, Notification, OnlineDay, Reaction, UserChatSettings


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
                "created_at": export_time(message.created_at),
                "edited_at": export_time(message.edited_at),
                "deleted_at": export_time(message.deleted_at),
            }
            for message in Message.objects.filter(author=user)
            .select_related("room")
            .order_by("created_at", "pk")
        ],
        "reactions": [
            {
                "message_id": reaction.message_id,
                "emoji": reaction.emoji,
                "created_at": export_time(reaction.created_at),
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
                "created_at": export_time(attachment.created_at),
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
            "status_expires_at": export_time(settings_row.status_expires_at),
            "dnd_until": export_time(settings_row.dnd_until),
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
                "created_at": export_time(notification.created_at),
                "read_at": export_time(notification.read_at),
                "emailed_at": export_time(notification.emailed_at),
            }
            for notification in Notification.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "online_days": [
            {
                "day": day.day.isoformat(),
                "online_seconds": day.online_seconds,
                "active_seconds": day.active_seconds,
                "first_seen_at": export_time(day.first_seen_at),
                "last_seen_at": export_time(day.last_seen_at),
            }
            for day in OnlineDay.objects.filter(user=user).order_by("day")
        ],
    }
