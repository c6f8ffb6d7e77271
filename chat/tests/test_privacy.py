"""Chat's section of a person's data export."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts import privacy
from chat import services
from chat.models import Notification, OnlineDay, UserChatSettings
from chat.tests.helpers import channel, committed, direct, send, team

pytestmark = pytest.mark.django_db


def test_the_export_lists_what_the_person_wrote_and_what_was_recorded_about_them() -> None:
    people = team()
    room = channel(people.organization, owner=people.admin, members=[people.agent], name="geral")
    with committed():
        mine = send(room, people.agent, f"**oi** <@{people.admin.pk}>")
        theirs = send(room, people.admin, "resposta")
    services.reaction_add(user=people.agent, message=theirs, emoji="tada")
    reaction_at = theirs.reactions.get().created_at
    UserChatSettings.objects.create(user=people.agent, status_text="Almoço", sound_enabled=False)
    seen = timezone.now().replace(microsecond=0)
    OnlineDay.objects.create(
        user=people.agent,
        day=datetime.date(2026, 11, 20),
        online_seconds=3600,
        active_seconds=1800,
        first_seen_at=seen,
        last_seen_at=seen,
    )
    with committed():
        dm = direct(people.organization, people.admin, people.agent)
        send(dm, people.admin, "Oi Bruno")
    notification = Notification.objects.get(user=people.agent)

    section = privacy.user_data_export(user=people.agent)["chat"]

    assert section == {
        "messages": [
            {
                "id": mine.pk,
                "room_id": room.pk,
                "room_name": "geral",
                "parent_id": None,
                "kind": "text",
                "body": f"**oi** <@{people.admin.pk}>",
                "created_at": mine.created_at.isoformat(),
                "edited_at": None,
                "deleted_at": None,
            }
        ],
        "reactions": [
            {"message_id": theirs.pk, "emoji": "tada", "created_at": reaction_at.isoformat()}
        ],
        "attachments": [],
        "settings": {
            "status_text": "Almoço",
            "status_emoji": "",
            "status_expires_at": None,
            "dnd_until": None,
            "dnd_schedule": [],
            "sound_enabled": False,
            "desktop_enabled": True,
            "email_enabled": True,
        },
        "notifications": [
            {
                "kind": "direct_message",
                "title": notification.title,
                "body": "Oi Bruno",
                "created_at": notification.created_at.isoformat(),
                "read_at": None,
                "emailed_at": None,
            }
        ],
        "online_days": [
            {
                "day": "2026-11-20",
                "online_seconds": 3600,
                "active_seconds": 1800,
                "first_seen_at": seen.isoformat(),
                "last_seen_at": seen.isoformat(),
            }
        ],
    }


def test_a_person_without_chat_records_exports_empty_lists() -> None:
    people = team()

    section = privacy.user_data_export(user=people.viewer)["chat"]

    assert section == {
        "messages": [],
        "reactions": [],
        "attachments": [],
        "settings": None,
        "notifications": [],
        "online_days": [],
    }
