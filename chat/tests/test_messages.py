"""Messages: sending, threads, mentions, edits, deletes, reactions, pins, and their reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from chat import selectors, services
from chat.models import (
    Attachment,
    AttachmentKind,
    Message,
    MessageKind,
    MessageMention,
    Reaction,
    RoomMember,
)
from chat.tests.factories import AttachmentFactory, MessageFactory, ReactionFactory
from chat.tests.helpers import channel, committed, direct, events_named, send, team
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    return tmp_path


def error_of(call: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value


# --- Sending ---------------------------------------------------------------------------------


def test_it_sends_a_message_with_rendered_html_and_events(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent])

    with committed():
        message, created = services.message_send(
            user=world.agent, room=room, body=f"  **hi** <@{world.admin.pk}>  "
        )

    assert created is True
    assert message.body == f"**hi** <@{world.admin.pk}>"
    assert message.html == (
        f'<strong>hi</strong> <span class="mention" data-user-id="{world.admin.pk}">'
        "@Ana Admin</span>"
    )
    assert list(MessageMention.objects.values_list("message_id", "user_id")) == [
        (message.pk, world.admin.pk)
    ]
    room.refresh_from_db()
    assert room.last_message_at == message.created_at
    assert RoomMember.objects.get(room=room, user=world.agent).last_read_message_id == message.pk
    created_events = events_named(published, "chat.message.created")
    assert [group for group, _data in created_events] == [f"chat.room.{room.pk}"]
    assert created_events[0][1]["message"]["id"] == message.pk
    assert created_events[0][1]["message"]["mentions"] == [world.admin.pk]


def test_it_schedules_the_notification_task(monkeypatch: pytest.MonkeyPatch) -> None:
    from chat import tasks

    world = team()
    room = channel(world.organization, owner=world.agent)
    scheduled: list[int] = []
    monkeypatch.setattr(tasks.notify_message, "delay", lambda pk: scheduled.append(pk))

    with committed():
        message = send(room, world.agent, "hello")

    assert scheduled == [message.pk]


def test_a_retry_with_the_same_client_id_returns_the_first_message() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    first, created = services.message_send(
        user=world.agent, room=room, body="once", client_id="c-1"
    )

    again, created_again = services.message_send(
        user=world.agent, room=room, body="once", client_id="c-1"
    )

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Message.objects.count() == 1


def test_it_refuses_posting_to_an_archived_room_and_stores_nothing(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, archived=True)

    with committed():
        error = error_of(lambda: send(room, world.agent, "hello"))

    assert (error.code, error.status_code) == ("chat.room_archived", 409)
    assert Message.objects.count() == 0
    assert published == []


def test_it_refuses_posting_to_a_room_of_another_organization() -> None:
    world = team()
    room = channel(world.other_organization, owner=world.outsider)

    with pytest.raises(NotFoundError):
        send(room, world.agent, "hello")

    assert Message.objects.count() == 0


def test_a_viewer_cannot_post_even_as_a_member() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.viewer])

    with pytest.raises(PermissionDeniedError):
        send(room, world.viewer, "hello")

    assert Message.objects.count() == 0


def test_a_non_member_cannot_post_to_a_public_channel_before_joining() -> None:
    world = team()
    room = channel(world.organization, owner=world.admin)

    with pytest.raises(PermissionDeniedError):
        send(room, world.agent, "hello")


def test_it_refuses_empty_and_too_long_messages(settings: Any) -> None:
    settings.CHAT_MESSAGE_MAX_LENGTH = 10
    world = team()
    room = channel(world.organization, owner=world.agent)

    empty = error_of(lambda: send(room, world.agent, " \n\x00 "))
    long = error_of(lambda: send(room, world.agent, "x" * 11))

    assert (empty.code, long.code, long.extra) == (
        "chat.message_empty",
        "chat.message_too_long",
        {"max_length": 10},
    )
    assert send(room, world.agent, "x" * 10).body == "x" * 10


def test_it_refuses_mentions_of_people_outside_the_room() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    body = f"<@{world.admin.pk}> <@{world.agent2.pk}> <@{world.outsider.pk}>"

    error = error_of(lambda: send(room, world.agent, body))

    assert (error.code, error.status_code) == ("chat.mention_not_member", 422)
    assert error.extra == {"user_ids": sorted([world.agent2.pk, world.outsider.pk])}
    assert Message.objects.count() == MessageMention.objects.count() == 0


def test_group_mentions_set_the_flags() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)

    message = send(room, world.agent, "@channel and @here, not `@all`")

    assert (message.mentions_all, message.mentions_here) == (True, True)


def test_a_thread_reply_counts_on_its_parent(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    parent = send(room, world.admin, "question")

    with committed():
        reply = send(room, world.agent, "answer", parent_id=parent.pk)

    parent.refresh_from_db()
    assert (parent.reply_count, parent.last_reply_at) == (1, reply.created_at)
    assert reply.parent_id == parent.pk
    # A reply does not move the top-level read position.
    assert RoomMember.objects.get(room=room, user=world.agent).last_read_message_id == 0
    updated = events_named(published, "chat.message.updated")
    assert [(data["message"]["id"], data["message"]["reply_count"]) for _g, data in updated] == [
        (parent.pk, 1)
    ]


def test_replies_go_to_top_level_messages_of_the_same_room_only() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    other = channel(world.organization, owner=world.agent)
    parent = send(room, world.agent, "question")
    reply = send(room, world.agent, "answer", parent_id=parent.pk)
    elsewhere = send(other, world.agent, "elsewhere")

    for parent_id in (reply.pk, elsewhere.pk, 999_999):
        assert error_of(
            lambda parent_id=parent_id: send(room, world.agent, "x", parent_id=parent_id)
        ).code == ("chat.invalid_parent")
    services.message_delete(user=world.agent, message=parent)
    assert error_of(lambda: send(room, world.agent, "x", parent_id=parent.pk)).code == (
        "chat.invalid_parent"
    )


def test_it_attaches_my_unsent_uploads_only(media: Path) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    mine = AttachmentFactory(room=room, uploaded_by=world.agent)
    theirs = AttachmentFactory(room=room, uploaded_by=world.agent2)

    refused = error_of(lambda: send(room, world.agent, "", attachment_ids=[mine.pk, theirs.pk]))
    message = send(room, world.agent, "", attachment_ids=[mine.pk])
    resent = error_of(lambda: send(room, world.agent, "", attachment_ids=[mine.pk]))

    assert (refused.code, resent.code) == ("chat.invalid_attachments",) * 2
    assert list(Attachment.objects.filter(message=message)) == [mine]
    data = selectors.message_data_by_id(message.pk)
    assert data["attachments"][0]["url"] == f"/api/v1/chat/attachments/{mine.pk}/file"
    assert data["attachments"][0]["thumbnail_url"] is None


def test_a_voice_message_needs_exactly_one_audio_attachment(media: Path) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    document = AttachmentFactory(room=room, uploaded_by=world.agent)
    audio = AttachmentFactory(
        room=room,
        uploaded_by=world.agent,
        kind=AttachmentKind.AUDIO,
        name="voice.webm",
        content_type="audio/webm",
        duration_ms=3000,
    )

    error = error_of(
        lambda: send(room, world.agent, "", kind=MessageKind.VOICE, attachment_ids=[document.pk])
    )
    voice = send(room, world.agent, "", kind=MessageKind.VOICE, attachment_ids=[audio.pk])

    assert error.code == "chat.voice_needs_audio"
    assert voice.kind == "voice"
    assert Attachment.objects.get(pk=document.pk).message_id is None


# --- Editing and deleting ----------------------------------------------------------------------


def test_the_author_edits_and_mentions_are_recomputed(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin, world.agent2])
    message = send(room, world.agent, f"hi <@{world.admin.pk}>")

    with committed():
        edited = services.message_edit(
            user=world.agent, message=message, body=f"hi <@{world.agent2.pk}> _now_"
        )

    assert edited.edited_at is not None
    assert edited.html == (
        f'hi <span class="mention" data-user-id="{world.agent2.pk}">@Carla Agente</span> '
        "<em>now</em>"
    )
    assert list(MessageMention.objects.values_list("user_id", flat=True)) == [world.agent2.pk]
    assert len(events_named(published, "chat.message.updated")) == 1


def test_nobody_else_edits_a_message_not_even_an_org_admin() -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent])
    message = send(room, world.agent, "mine")

    with pytest.raises(PermissionDeniedError):
        services.message_edit(user=world.admin, message=message, body="changed")

    message.refresh_from_db()
    assert (message.body, message.edited_at) == ("mine", None)


def test_a_deleted_message_leaves_a_trace_and_cannot_be_edited(media: Path) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    upload = AttachmentFactory(room=room, uploaded_by=world.agent)
    stored = Path(upload.file.path)
    message = send(room, world.agent, f"<@{world.admin.pk}> see", attachment_ids=[upload.pk])
    ReactionFactory(message=message, user=world.admin, emoji="tada")

    with committed():
        services.message_delete(user=world.agent, message=message)

    message.refresh_from_db()
    assert (message.body, message.html, message.deleted_by_id) == ("", "", world.agent.pk)
    assert Reaction.objects.count() == Attachment.objects.count() == 0
    assert MessageMention.objects.count() == 0
    assert not stored.exists()
    data = selectors.message_data_by_id(message.pk)
    assert (data["deleted"], data["body"], data["attachments"], data["reactions"]) == (
        True,
        "",
        [],
        [],
    )
    assert error_of(
        lambda: services.message_edit(user=world.agent, message=message, body="back")
    ).code == ("chat.message_deleted")
    # The author deleting their own message is not an audit event.
    assert AuditEvent.objects.filter(action="chat.message_deleted").count() == 0


def test_an_org_admin_deletes_someone_elses_message_with_an_audit_record() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin, world.agent2])
    message = send(room, world.agent, "spam")

    with pytest.raises(PermissionDeniedError):
        services.message_delete(user=world.agent2, message=message)
    services.message_delete(user=world.admin, message=message)

    event = AuditEvent.objects.get(action="chat.message_deleted")
    assert (event.actor_id, event.target_id) == (world.admin.pk, str(message.pk))


def test_a_channel_owner_deletes_messages_in_their_channel() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent2, members=[world.agent])
    message = send(room, world.agent, "off topic")

    services.message_delete(user=world.agent2, message=message)

    message.refresh_from_db()
    assert message.deleted_at is not None


# --- Reactions and pins --------------------------------------------------------------------------


def test_reactions_are_idempotent_and_grouped(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    message = send(room, world.agent, "ship it")

    with committed():
        services.reaction_add(user=world.agent, message=message, emoji="tada")
        services.reaction_add(user=world.agent, message=message, emoji="tada")
        services.reaction_add(user=world.admin, message=message, emoji="tada")
        services.reaction_add(user=world.admin, message=message, emoji="thumbsup")
        services.reaction_remove(user=world.admin, message=message, emoji="thumbsup")
        services.reaction_remove(user=world.admin, message=message, emoji="thumbsup")

    assert selectors.message_data_by_id(message.pk)["reactions"] == [
        {"emoji": "tada", "char": "🎉", "count": 2, "user_ids": [world.agent.pk, world.admin.pk]}
    ]
    assert len(events_named(published, "chat.message.updated")) == 4


def test_it_refuses_unknown_emoji_and_viewers_reactions() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.viewer])
    message = send(room, world.agent, "hello")

    error = error_of(
        lambda: services.reaction_add(user=world.agent, message=message, emoji="<script>")
    )
    with pytest.raises(PermissionDeniedError):
        services.reaction_add(user=world.viewer, message=message, emoji="tada")

    assert error.code == "chat.invalid_emoji"
    assert Reaction.objects.count() == 0


def test_members_who_post_pin_and_unpin() -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent, world.viewer])
    message = send(room, world.admin, "rules")

    services.message_pin(user=world.agent, message=message)
    with pytest.raises(PermissionDeniedError):
        services.message_unpin(user=world.viewer, message=message)

    assert [m.pk for m in selectors.room_pins(room=room)] == [message.pk]
    services.message_unpin(user=world.agent, message=message)
    assert selectors.room_pins(room=room) == []


# --- Reads ---------------------------------------------------------------------------------------


def test_message_pages_by_keyset_both_ways() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    ids = [send(room, world.agent, f"m{n}").pk for n in range(5)]

    newest, more = selectors.message_page(room=room, limit=2)
    older, more_older = selectors.message_page(room=room, before=newest[-1].pk, limit=2)
    oldest, more_oldest = selectors.message_page(room=room, before=older[-1].pk, limit=2)
    after, more_after = selectors.message_page(room=room, after=ids[1], limit=10)

    assert ([m.pk for m in newest], more) == ([ids[4], ids[3]], True)
    assert ([m.pk for m in older], more_older) == ([ids[2], ids[1]], True)
    assert ([m.pk for m in oldest], more_oldest) == ([ids[0]], False)
    assert ([m.pk for m in after], more_after) == (ids[2:], False)


def test_a_message_page_costs_the_same_queries_whatever_its_size(
    django_assert_num_queries: Any, media: Path
) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    for n in range(6):
        message = send(room, world.agent, f"<@{world.admin.pk}> {n}")
        ReactionFactory(message=message, user=world.admin)
        AttachmentFactory(room=room, uploaded_by=world.agent, message=message)

    # Messages with their authors, then reactions, attachments and mentions.
    with django_assert_num_queries(4):
        messages, _more = selectors.message_page(room=room, limit=50)
        payload = [selectors.message_data(message) for message in messages]

    assert len(payload) == 6
    assert payload[0]["reactions"][0]["count"] == 1


def test_thread_replies_come_oldest_first() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    parent = send(room, world.agent, "q")
    replies = [send(room, world.agent, f"r{n}", parent_id=parent.pk).pk for n in range(3)]

    page, more = selectors.thread_replies(parent=parent, limit=2)
    rest, more_rest = selectors.thread_replies(parent=parent, after=page[-1].pk)

    assert ([m.pk for m in page], more) == (replies[:2], True)
    assert ([m.pk for m in rest], more_rest) == (replies[2:], False)
    top, _ = selectors.message_page(room=room)
    assert [m.pk for m in top] == [parent.pk]


def test_messages_sent_while_away_are_there_after_the_last_seen_id() -> None:
    world = team()
    room = direct(world.organization, world.agent, world.agent2)
    last_seen = send(room, world.agent, "before the drop").pk

    missed = [send(room, world.agent2, f"while away {n}").pk for n in range(3)]

    page, more = selectors.message_page(room=room, after=last_seen)
    assert ([m.pk for m in page], more) == (missed, False)


def test_a_message_is_not_visible_from_another_organization() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    message = MessageFactory(room=room, author=world.agent)

    with pytest.raises(NotFoundError):
        selectors.message_get_visible(user=world.outsider, message_id=message.pk)
    assert selectors.message_get_visible(user=world.admin, message_id=message.pk) == message


def test_the_room_list_counts_queries_do_not_grow(django_assert_num_queries: Any) -> None:
    world = team()
    for n in range(4):
        room = channel(world.organization, owner=world.admin, members=[world.agent])
        send(room, world.admin, f"<@{world.agent.pk}> {n}")
    for other in (world.agent2, world.admin):
        send(direct(world.organization, world.agent, other), other, "psst")

    with CaptureQueriesContext(connection) as queries:
        rooms = selectors.room_list_for_user(
            user=world.agent, organization_id=world.organization.pk
        )

    assert len(queries) == 2
    assert len(rooms) == 6
    assert [(room["unread_count"], room["mention_count"]) for room in rooms] == [(1, 0)] * 2 + [
        (1, 1)
    ] * 4
