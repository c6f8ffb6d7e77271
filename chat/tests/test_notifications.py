"""Who is notified of what, when it rings, reading notifications, and the digest email."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

import pytest
from django.core import mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import ngettext

from accounts.models import User
from chat import notifications
from chat.models import (
    Message,
    MessageMention,
    Notification,
    NotifyLevel,
    PresenceConnection,
    Room,
    RoomMember,
    UserChatSettings,
)
from chat.tasks import notify_message, send_notification_digests
from chat.tests.factories import MessageFactory
from chat.tests.helpers import (
    Team,
    channel,
    committed,
    direct,
    events_named,
    member,
    send,
    team,
)
from core.exceptions import NotFoundError

pytestmark = pytest.mark.django_db

CREATED = "chat.notification.created"
READ = "chat.notification.read"


@pytest.fixture
def people() -> Team:
    world = team()
    # Titles are asserted word for word in English; the digest tests set their own language.
    User.objects.filter(pk__in=[user.pk for user in world.everyone]).update(language="en")
    for user in world.everyone:
        user.refresh_from_db()
    return world


def post(
    room: Room,
    author: User,
    body: str = "hello",
    *,
    mentioned: Iterable[User] = (),
    everyone: bool = False,
    here: bool = False,
    parent: Message | None = None,
) -> Message:
    """A stored message as the send service leaves it (mention rows and flags)."""
    message: Message = MessageFactory(
        room=room,
        author=author,
        body=body,
        mentions_all=everyone,
        mentions_here=here,
        parent=parent,
    )
    for user in mentioned:
        MessageMention.objects.create(message=message, user=user)
    return message


def notified(message: Message) -> dict[int, str]:
    """user id -> kind of every notification stored for ``message``."""
    return dict(
        Notification.objects.filter(source=f"message:{message.pk}").values_list("user_id", "kind")
    )


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def set_level(room: Room, user: User, level: str) -> None:
    RoomMember.objects.filter(room=room, user=user).update(notify=level)


def looking_at(user: User, room: Room | None, *, visible: bool = True, seen_ago: int = 0) -> None:
    PresenceConnection.objects.create(
        channel_name=f"test.{user.pk}.{PresenceConnection.objects.count()}",
        user=user,
        viewing_room=room,
        visible=visible,
        last_seen_at=timezone.now() - datetime.timedelta(seconds=seen_ago),
        last_active_at=timezone.now() - datetime.timedelta(seconds=seen_ago),
    )


# --- Who is notified ----------------------------------------------------------------------


def test_a_direct_message_notifies_the_other_person_with_the_exact_notification(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2)
    message = post(room, people.agent, "oi, tudo bem? :tada:")

    with committed():
        created = notify_for(message)

    notification = Notification.objects.get()
    assert [n.pk for n in created] == [notification.pk]
    assert (
        notification.user_id,
        notification.kind,
        notification.title,
        notification.body,
        notification.url,
        notification.data,
        notification.actor_id,
        notification.room_id,
        notification.organization_id,
        notification.read_at,
        notification.emailed_at,
    ) == (
        people.agent2.pk,
        "direct_message",
        "Bruno Agente",
        "oi, tudo bem? 🎉",
        f"/chat/{room.pk}?message={message.pk}",
        {"room_id": room.pk, "message_id": message.pk, "thread_id": None},
        people.agent.pk,
        room.pk,
        people.organization.pk,
        None,
        None,
    )
    assert events_named(published, CREATED) == [
        (
            f"user.{people.agent2.pk}",
            {
                "notification": as_json(
                    {
                        "id": notification.pk,
                        "kind": "direct_message",
                        "title": "Bruno Agente",
                        "body": "oi, tudo bem? 🎉",
                        "url": f"/chat/{room.pk}?message={message.pk}",
                        "room_id": room.pk,
                        "data": {"room_id": room.pk, "message_id": message.pk, "thread_id": None},
                        "actor": {"id": people.agent.pk, "name": "Bruno Agente"},
                        "created_at": notification.created_at,
                        "read_at": None,
                    }
                ),
                "alert": True,
                "sound": True,
                "unread_count": 1,
            },
        )
    ]


def notify_for(message: Message) -> list[Notification]:
    return notifications.notify_for_message(message_id=message.pk)


def test_a_group_dm_notifies_every_other_member_and_never_the_author(people: Team) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)

    message = post(room, people.agent)
    notify_for(message)

    assert notified(message) == {
        people.agent2.pk: "direct_message",
        people.admin.pk: "direct_message",
    }


def test_a_plain_channel_message_notifies_no_one(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)

    with committed():
        created = notify_for(post(room, people.agent, "bom dia"))

    assert (created, Notification.objects.count(), events_named(published, CREATED)) == (
        [],
        0,
        [],
    )


def test_a_mention_in_a_channel_notifies_only_the_person_named(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone, name="geral")

    message = post(
        room, people.agent, f"<@{people.agent2.pk}> olha isso", mentioned=[people.agent2]
    )
    notify_for(message)

    notification = Notification.objects.get()
    assert (notification.user_id, notification.kind, notification.title, notification.body) == (
        people.agent2.pk,
        "mention",
        "Bruno Agente in #geral",
        "@Carla Agente olha isso",
    )


def test_a_mention_of_someone_outside_the_room_notifies_no_one(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=[people.agent])

    message = post(room, people.agent, f"<@{people.viewer.pk}>", mentioned=[people.viewer])
    notify_for(message)

    assert notified(message) == {}


def test_at_channel_notifies_every_member_but_the_author_and_those_who_chose_nothing(
    people: Team,
) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)
    set_level(room, people.agent2, NotifyLevel.MENTIONS)
    set_level(room, people.viewer, NotifyLevel.NOTHING)

    message = post(room, people.agent, "@channel reunião agora", everyone=True)
    notify_for(message)

    assert notified(message) == {people.admin.pk: "mention", people.agent2.pk: "mention"}


def test_a_direct_mention_reaches_a_member_whose_level_is_mentions(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)
    set_level(room, people.agent2, NotifyLevel.MENTIONS)
    set_level(room, people.viewer, NotifyLevel.NOTHING)

    message = post(room, people.agent, "oi", mentioned=[people.agent2, people.viewer])
    notify_for(message)

    assert notified(message) == {people.agent2.pk: "mention"}


def test_a_dm_member_whose_level_is_mentions_is_notified_only_when_mentioned(
    people: Team,
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    set_level(room, people.agent2, NotifyLevel.MENTIONS)
    set_level(room, people.admin, NotifyLevel.MENTIONS)

    message = post(room, people.agent, f"<@{people.admin.pk}> oi", mentioned=[people.admin])
    notify_for(message)

    assert notified(message) == {people.admin.pk: "mention"}


def test_a_muted_dm_notifies_no_one(people: Team) -> None:
    room = direct(people.organization, people.agent, people.agent2)
    set_level(room, people.agent2, NotifyLevel.NOTHING)

    message = post(room, people.agent, f"<@{people.agent2.pk}>", mentioned=[people.agent2])
    notify_for(message)

    assert notified(message) == {}


def test_at_here_notifies_only_the_members_online_or_away(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)
    looking_at(people.admin, None)  # online
    looking_at(people.agent2, None, seen_ago=10)  # connected: online or away
    looking_at(people.viewer, None, seen_ago=3600)  # its heartbeats stopped long ago: offline

    message = post(room, people.agent, "@here alguém?", here=True)
    notify_for(message)

    assert notified(message) == {people.admin.pk: "mention", people.agent2.pk: "mention"}


def test_a_thread_reply_notifies_the_thread_author_and_everyone_who_replied(
    people: Team,
) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone, name="geral")
    root = post(room, people.admin, "pergunta")
    post(room, people.agent2, "resposta", parent=root)
    set_level(room, people.agent2, NotifyLevel.MENTIONS)

    reply = post(room, people.agent, "outra resposta", parent=root)
    notify_for(reply)

    assert notified(reply) == {people.admin.pk: "thread_reply", people.agent2.pk: "thread_reply"}
    notification = Notification.objects.get(user=people.admin)
    assert (notification.title, notification.url, notification.data) == (
        "Bruno Agente replied in #geral",
        f"/chat/{room.pk}?message={reply.pk}",
        {"room_id": room.pk, "message_id": reply.pk, "thread_id": root.pk},
    )


def test_a_mention_in_a_thread_wins_over_the_thread_reply(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)
    root = post(room, people.admin, "pergunta")
    post(room, people.agent2, "resposta", parent=root)

    reply = post(room, people.agent, "veja", parent=root, mentioned=[people.admin, people.viewer])
    notify_for(reply)

    assert notified(reply) == {
        people.admin.pk: "mention",
        people.agent2.pk: "thread_reply",
        people.viewer.pk: "mention",
    }


def test_replying_to_your_own_thread_notifies_nobody_else(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone)
    root = post(room, people.admin, "pergunta")

    reply = post(room, people.admin, "complemento", parent=root)
    notify_for(reply)

    assert notified(reply) == {}


def test_a_message_deleted_before_the_task_ran_notifies_no_one(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2)
    message = post(room, people.agent, "ops", mentioned=[people.agent2])
    Message.objects.filter(pk=message.pk).update(deleted_at=timezone.now(), body="", html="")

    with committed():
        notify_message.delay(message.pk)

    assert (Notification.objects.count(), events_named(published, CREATED)) == (0, [])


def test_a_message_that_no_longer_exists_notifies_no_one(people: Team) -> None:
    assert notifications.notify_for_message(message_id=987654) == []


def test_running_the_task_twice_stores_and_pushes_nothing_new(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    message = post(room, people.agent)
    with committed():
        notify_message.delay(message.pk)
    first = list(Notification.objects.order_by("pk").values())

    with committed():
        notify_message.delay(message.pk)

    assert list(Notification.objects.order_by("pk").values()) == first
    assert len(first) == 2
    assert len(events_named(published, CREATED)) == 2


def test_a_voice_message_without_text_is_described(people: Team) -> None:
    room = direct(people.organization, people.agent, people.agent2)

    message = MessageFactory(room=room, author=people.agent, body="", kind="voice")
    notify_for(message)

    assert Notification.objects.get().body == "Voice message"


def test_a_long_message_is_cut_to_140_characters(people: Team) -> None:
    room = direct(people.organization, people.agent, people.agent2)

    notify_for(post(room, people.agent, "palavra " * 40))

    body = Notification.objects.get().body
    assert (len(body), body.endswith("…")) == (140, True)


def test_the_title_is_in_the_recipients_language(people: Team) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone, name="geral")
    User.objects.filter(pk=people.agent2.pk).update(language="pt-br")

    message = post(room, people.agent, "@channel", everyone=True)
    notify_for(message)

    with translation.override("pt-br"):
        portuguese = translation.gettext("%(name)s in #%(room)s") % {
            "name": "Bruno Agente",
            "room": "geral",
        }
    titles = dict(Notification.objects.values_list("user_id", "title"))
    assert (titles[people.agent2.pk], titles[people.admin.pk]) == (
        portuguese,
        "Bruno Agente in #geral",
    )


def _channel_of(size: int) -> tuple[Room, User]:
    organization = team().organization
    author = member(organization)
    others = [member(organization) for _ in range(size - 1)]
    return channel(organization, owner=author, members=others), author


def test_at_channel_costs_the_same_queries_in_a_room_of_5_and_of_50() -> None:
    counts = []
    for size in (5, 50):
        room, author = _channel_of(size)
        message = post(room, author, "@channel", everyone=True)
        with CaptureQueriesContext(connection) as queries:
            created = notify_for(message)
        assert len(created) == size - 1
        counts.append(len(queries))

    # The message, its members, its mentions, one insert, reading the new rows back, the
    # alert inputs (settings, time zones, who looks at the room), the unread counts, and the
    # savepoint around the writes: the same eleven for five people or fifty.
    assert counts == [11, 11]


# --- When it rings ------------------------------------------------------------------------


def created_flags(published: list[tuple[str, dict[str, Any]]]) -> dict[str, tuple[bool, bool]]:
    return {
        group: (data["alert"], data["sound"]) for group, data in events_named(published, CREATED)
    }


def test_no_alert_or_sound_for_someone_looking_at_the_room(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    looking_at(people.agent2, room)
    other_room = channel(people.organization, members=[people.admin])
    looking_at(people.admin, other_room)

    with committed():
        notify_for(post(room, people.agent))

    assert created_flags(published) == {
        f"user.{people.agent2.pk}": (False, False),
        f"user.{people.admin.pk}": (True, True),
    }
    # Quiet is not lost: both are stored and unread.
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_a_hidden_tab_or_a_silent_connection_on_the_room_still_rings(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    looking_at(people.agent2, room, visible=False)
    looking_at(people.admin, room, seen_ago=3600)

    with committed():
        notify_for(post(room, people.agent))

    assert created_flags(published) == {
        f"user.{people.agent2.pk}": (True, True),
        f"user.{people.admin.pk}": (True, True),
    }


def test_no_alert_or_sound_during_do_not_disturb(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    UserChatSettings.objects.create(
        user=people.agent2, dnd_until=timezone.now() + datetime.timedelta(hours=1)
    )
    UserChatSettings.objects.create(
        user=people.admin, dnd_until=timezone.now() - datetime.timedelta(minutes=1)
    )

    with committed():
        notify_for(post(room, people.agent))

    assert created_flags(published) == {
        f"user.{people.agent2.pk}": (False, False),
        f"user.{people.admin.pk}": (True, True),
    }


def test_no_alert_or_sound_during_a_scheduled_do_not_disturb(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2)
    User.objects.filter(pk=people.agent2.pk).update(time_zone="America/Sao_Paulo")
    # Every day, the whole day, in the user's own time zone.
    UserChatSettings.objects.create(
        user=people.agent2,
        dnd_schedule=[{"day": day, "start": "00:00", "end": "24:00"} for day in range(7)],
    )

    with committed():
        notify_for(post(room, people.agent))

    assert created_flags(published) == {f"user.{people.agent2.pk}": (False, False)}


def test_sound_and_desktop_preferences_turn_off_only_their_own_half(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2, people.admin)
    UserChatSettings.objects.create(user=people.agent2, sound_enabled=False)
    UserChatSettings.objects.create(user=people.admin, desktop_enabled=False)

    with committed():
        notify_for(post(room, people.agent))

    assert created_flags(published) == {
        f"user.{people.agent2.pk}": (True, False),
        f"user.{people.admin.pk}": (False, True),
    }


# --- notification_create, for every feature ---------------------------------------------


def test_notification_create_stores_once_per_source_and_pushes_once(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    fields: dict[str, Any] = {
        "user_id": people.agent.pk,
        "kind": "call",
        "source": "call:7",
        "title": "Incoming call",
        "body": "Ana is calling",
        "url": "/calls/7",
        "data": {"call_id": 7},
        "actor_id": people.admin.pk,
        "organization_id": people.organization.pk,
    }

    with committed():
        first = notifications.notification_create(**fields)
        second = notifications.notification_create(**{**fields, "title": "Another title"})

    assert first is not None
    assert second is None
    assert list(Notification.objects.values_list("pk", "title", "room_id")) == [
        (first.pk, "Incoming call", None)
    ]
    events = events_named(published, CREATED)
    assert [
        (group, data["notification"]["id"], data["unread_count"]) for group, data in events
    ] == [(f"user.{people.agent.pk}", first.pk, 1)]
    assert events[0][1]["notification"]["actor"] == {"id": people.admin.pk, "name": "Ana Admin"}


def test_notification_create_for_another_user_with_the_same_source_is_stored(
    people: Team,
) -> None:
    for user in (people.agent, people.agent2):
        notifications.notification_create(
            user_id=user.pk, kind="reminder", source="reminder:1", title="Lembrete"
        )

    assert Notification.objects.count() == 2


def test_nothing_is_pushed_when_the_surrounding_transaction_rolls_back(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    from django.db import transaction

    class BoomError(Exception):
        pass

    with committed(), pytest.raises(BoomError), transaction.atomic():
        notifications.notification_create(
            user_id=people.agent.pk, kind="call", source="call:1", title="x"
        )
        raise BoomError

    assert (Notification.objects.count(), events_named(published, CREATED)) == (0, [])


# --- Reading ------------------------------------------------------------------------------


def _notify(user: User, source: str, *, room: Room | None = None, **data: Any) -> Notification:
    notification = notifications.notification_create(
        user_id=user.pk,
        kind="mention" if room else "reminder",
        source=source,
        title=source,
        room_id=room.pk if room else None,
        data=data,
    )
    assert notification is not None
    return notification


def test_marking_one_read_pushes_its_id_and_the_new_count(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    first = _notify(people.agent, "a")
    _notify(people.agent, "b")

    with committed():
        marked = notifications.notification_mark_read(user=people.agent, notification_id=first.pk)
        again = notifications.notification_mark_read(user=people.agent, notification_id=first.pk)

    assert marked.read_at is not None
    assert again.read_at == marked.read_at
    assert events_named(published, READ) == [
        (f"user.{people.agent.pk}", {"ids": [first.pk], "unread_count": 1})
    ]


def test_marking_someone_elses_notification_read_is_not_found(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    theirs = _notify(people.agent2, "a")

    with committed(), pytest.raises(NotFoundError):
        notifications.notification_mark_read(user=people.agent, notification_id=theirs.pk)

    assert Notification.objects.get().read_at is None
    assert events_named(published, READ) == []


def test_mark_all_read_marks_every_one_or_only_one_rooms(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = channel(people.organization, members=[people.agent])
    in_room = _notify(people.agent, "a", room=room)
    elsewhere = _notify(people.agent, "b")
    theirs = _notify(people.agent2, "c", room=room)

    with committed():
        in_one_room = notifications.notifications_mark_all_read(user=people.agent, room_id=room.pk)
        everything = notifications.notifications_mark_all_read(user=people.agent)
        nothing_left = notifications.notifications_mark_all_read(user=people.agent)

    assert (in_one_room, everything, nothing_left) == (1, 1, 0)
    read = dict(Notification.objects.values_list("pk", "read_at"))
    assert (read[in_room.pk] is not None, read[elsewhere.pk] is not None, read[theirs.pk]) == (
        True,
        True,
        None,
    )
    assert events_named(published, READ) == [
        (f"user.{people.agent.pk}", {"ids": [in_room.pk], "unread_count": 1}),
        (f"user.{people.agent.pk}", {"ids": None, "unread_count": 0}),
    ]


def test_reading_a_room_reads_the_notifications_of_the_messages_it_covers(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = direct(people.organization, people.agent, people.agent2)
    older = post(room, people.agent)
    root = post(room, people.agent2)
    reply = post(room, people.agent, parent=root)
    newer = post(room, people.agent)
    for message in (older, reply, newer):
        notify_for(message)
    by_message = {
        n.data["message_id"]: n.pk for n in Notification.objects.filter(user=people.agent2)
    }

    with committed():
        changed = notifications.notifications_mark_read_for_room(
            user_id=people.agent2.pk, room_id=room.pk, up_to_message_id=reply.pk
        )

    # The older message is read; the thread reply waits for its thread; the newer is unread.
    assert changed == 1
    unread = set(
        Notification.objects.filter(user=people.agent2, read_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    assert unread == {by_message[reply.pk], by_message[newer.pk]}
    assert events_named(published, READ) == [
        (f"user.{people.agent2.pk}", {"ids": [by_message[older.pk]], "unread_count": 2})
    ]


# --- Digest email -------------------------------------------------------------------------


DELAY = datetime.timedelta(minutes=10)


@pytest.fixture
def digest_world(settings: Any) -> dict[str, Any]:
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 600
    settings.SITE_URL = "https://atende.example"
    world = team()
    general = channel(world.organization, members=world.everyone, name="geral")
    dm = direct(world.organization, world.agent, world.agent2)
    return {"team": world, "general": general, "dm": dm}


def _message_notification(
    user: User, room: Room, *, kind: str, title: str, body: str, age: datetime.timedelta
) -> Notification:
    message = MessageFactory(room=room, body=body)
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        source=f"message:{message.pk}",
        title=title,
        body=body,
        url=f"/chat/{room.pk}?message={message.pk}",
        room=room,
        data={"room_id": room.pk, "message_id": message.pk, "thread_id": None},
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
    notification.refresh_from_db()
    return notification


def test_one_digest_lists_every_due_mention_and_direct_message_grouped_by_room(
    digest_world: dict[str, Any],
) -> None:
    world, general, dm = digest_world["team"], digest_world["general"], digest_world["dm"]
    reader = world.agent2
    due = [
        _message_notification(
            reader, general, kind="mention", title="Ana in #geral", body="@Carla veja", age=DELAY
        ),
        _message_notification(
            reader, dm, kind="direct_message", title="Bruno", body="oi", age=DELAY * 2
        ),
        _message_notification(
            reader, general, kind="thread_reply", title="Davi in #geral", body="ok", age=DELAY
        ),
    ]

    sent = notifications.notification_digests_send(now=timezone.now())

    assert sent == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [reader.email]
    with translation.override("pt-br"):
        subject = ngettext(
            "You have %(count)d unread notification on Atende",
            "You have %(count)d unread notifications on Atende",
            3,
        ) % {"count": 3}
    assert email.subject == subject
    html, content_type = email.alternatives[0]
    assert content_type == "text/html"
    assert '<html lang="pt-br">' in html
    for notification in due:
        link = f"https://atende.example/chat/{notification.room_id}?message={notification.data['message_id']}"
        assert email.body.count(link) == 1
        assert html.count(link) == 1
        assert notification.title in email.body
    # Grouped by room: #geral's two together, then the direct message.
    body = email.body
    assert body.index("#geral") < body.index("Ana in #geral") < body.index("Davi in #geral")
    assert body.count("#geral\n") == 1
    emailed = set(
        Notification.objects.filter(emailed_at__isnull=False).values_list("pk", flat=True)
    )
    assert emailed == {n.pk for n in due}


def test_the_digest_escapes_what_people_wrote_in_its_html(digest_world: dict[str, Any]) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    _message_notification(
        world.agent2,
        dm,
        kind="direct_message",
        title="Bruno",
        body="<script>alert(1)</script>",
        age=DELAY,
    )

    notifications.notification_digests_send(now=timezone.now())

    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in mail.outbox[0].body


def test_the_digest_is_in_each_persons_language(digest_world: dict[str, Any]) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    User.objects.filter(pk=world.agent.pk).update(language="en")
    _message_notification(world.agent, dm, kind="direct_message", title="C", body="x", age=DELAY)
    _message_notification(world.agent2, dm, kind="direct_message", title="B", body="y", age=DELAY)

    notifications.notification_digests_send(now=timezone.now())

    by_recipient = {email.to[0]: email for email in mail.outbox}
    english = by_recipient[world.agent.email]
    portuguese = by_recipient[world.agent2.email]
    assert english.subject == "You have 1 unread notification on Atende"
    assert '<html lang="en">' in english.alternatives[0][0]
    assert '<html lang="pt-br">' in portuguese.alternatives[0][0]


def test_no_digest_for_read_or_recent_or_other_kinds_of_notification(
    digest_world: dict[str, Any],
) -> None:
    world, general = digest_world["team"], digest_world["general"]
    read = _message_notification(
        world.agent2, general, kind="mention", title="t", body="b", age=DELAY
    )
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    _message_notification(
        world.agent2,
        general,
        kind="mention",
        title="t",
        body="b",
        age=DELAY - datetime.timedelta(seconds=5),
    )
    _message_notification(world.agent2, general, kind="call", title="t", body="b", age=DELAY)

    sent = notifications.notification_digests_send(now=timezone.now())

    assert (sent, mail.outbox, Notification.objects.filter(emailed_at__isnull=False).count()) == (
        0,
        [],
        0,
    )


def test_a_digest_is_never_sent_twice(digest_world: dict[str, Any]) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    _message_notification(world.agent2, dm, kind="direct_message", title="B", body="y", age=DELAY)

    first = send_notification_digests.delay().get()
    second = send_notification_digests.delay().get()

    assert (first, second, len(mail.outbox)) == (1, 0, 1)


def test_a_later_notification_gets_its_own_digest_without_the_earlier_ones(
    digest_world: dict[str, Any],
) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    _message_notification(world.agent2, dm, kind="direct_message", title="One", body="y", age=DELAY)
    notifications.notification_digests_send(now=timezone.now())
    _message_notification(world.agent2, dm, kind="direct_message", title="Two", body="z", age=DELAY)

    notifications.notification_digests_send(now=timezone.now())

    assert len(mail.outbox) == 2
    assert ("One" in mail.outbox[1].body, "Two" in mail.outbox[1].body) == (False, True)


def test_no_digest_when_email_is_turned_off_or_the_address_bounces(
    digest_world: dict[str, Any],
) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    UserChatSettings.objects.create(user=world.agent, email_enabled=False)
    User.objects.filter(pk=world.agent2.pk).update(email_undeliverable_at=timezone.now())
    for user in (world.agent, world.agent2):
        _message_notification(user, dm, kind="direct_message", title="B", body="y", age=DELAY)

    sent = notifications.notification_digests_send(now=timezone.now())

    assert (sent, mail.outbox, Notification.objects.filter(emailed_at__isnull=False).count()) == (
        0,
        [],
        0,
    )


def test_an_inactive_account_gets_no_digest(digest_world: dict[str, Any]) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    User.objects.filter(pk=world.agent2.pk).update(is_active=False)
    _message_notification(world.agent2, dm, kind="direct_message", title="B", body="y", age=DELAY)

    assert (notifications.notification_digests_send(now=timezone.now()), mail.outbox) == (0, [])


def test_one_persons_failing_email_does_not_stop_the_others(
    digest_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    for user in (world.agent, world.agent2):
        _message_notification(user, dm, kind="direct_message", title="B", body="y", age=DELAY)
    original = notifications._send_digest

    def flaky(user: User, items: list[Notification]) -> None:
        if user.pk == world.agent.pk:
            raise ConnectionError("smtp down")
        original(user, items)

    monkeypatch.setattr(notifications, "_send_digest", flaky)

    sent = notifications.notification_digests_send(now=timezone.now())

    # The failed one was claimed before sending: it is not retried (never a duplicate email).
    assert (sent, [email.to for email in mail.outbox]) == (1, [[world.agent2.email]])
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_user_without_settings_row_gets_the_digest(digest_world: dict[str, Any]) -> None:
    world, dm = digest_world["team"], digest_world["dm"]
    assert not UserChatSettings.objects.filter(user=world.agent2).exists()
    _message_notification(world.agent2, dm, kind="direct_message", title="B", body="y", age=DELAY)

    assert notifications.notification_digests_send(now=timezone.now()) == 1


# --- Through the chat services --------------------------------------------------------------


def test_sending_a_mention_through_the_service_notifies_after_commit(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    room = channel(people.organization, owner=people.admin, members=people.everyone, name="geral")

    with committed():
        message = send(room, people.agent, f"<@{people.agent2.pk}> veja isto")

    assert notified(message) == {people.agent2.pk: "mention"}
    assert [group for group, _ in events_named(published, CREATED)] == [f"user.{people.agent2.pk}"]


def test_reading_the_room_through_the_service_reads_its_notifications(
    people: Team, published: list[tuple[str, dict[str, Any]]]
) -> None:
    from chat import services

    room = direct(people.organization, people.agent, people.agent2)
    with committed():
        message = send(room, people.agent, "oi")
    assert notified(message) == {people.agent2.pk: "direct_message"}

    with committed():
        services.room_mark_read(user=people.agent2, room=room)

    assert Notification.objects.get().read_at is not None
    assert events_named(published, READ) == [
        (f"user.{people.agent2.pk}", {"ids": [Notification.objects.get().pk], "unread_count": 0})
    ]
