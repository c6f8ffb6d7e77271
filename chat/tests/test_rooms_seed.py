"""The chat part of ``manage.py seed_demo``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from chat.models import Message, MessageMention, Reaction, Room, RoomMember

pytestmark = pytest.mark.django_db


def chat_rows() -> dict[str, list[tuple[object, ...]]]:
    return {
        "rooms": list(Room.objects.order_by("pk").values_list("pk", "kind", "name")),
        "members": list(RoomMember.objects.order_by("pk").values_list("room_id", "user_id")),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "body", "reply_count")),
        "reactions": list(Reaction.objects.values_list("message_id", "user_id", "emoji")),
    }


def test_the_demo_has_channels_a_thread_a_mention_a_reaction_and_a_dm() -> None:
    call_command("seed_demo", stdout=StringIO())

    # The support inbox's demo conversations have rooms of their own (kind "support").
    assert sorted(Room.objects.exclude(kind="support").values_list("kind", "name")) == [
        ("channel", "geral"),
        ("channel", "suporte"),
        ("direct", ""),
        ("private", "gestao"),
    ]
    geral = Room.objects.get(name="geral")
    assert sorted(RoomMember.objects.filter(room=geral).values_list("user__email", flat=True)) == [
        "admin@atende.test",
        "agent1@atende.test",
        "agent2@atende.test",
        "viewer@atende.test",
    ]
    dm = Room.objects.get(kind="direct")
    assert sorted(RoomMember.objects.filter(room=dm).values_list("user__email", flat=True)) == [
        "agent1@atende.test",
        "agent2@atende.test",
    ]
    assert Message.objects.filter(room=geral, reply_count=1).count() == 1
    assert MessageMention.objects.get().user.email == "agent2@atende.test"
    assert Reaction.objects.get().emoji == "tada"


def test_seeding_again_stores_nothing_twice() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = chat_rows()

    call_command("seed_demo", stdout=StringIO())

    assert chat_rows() == first
