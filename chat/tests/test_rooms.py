"""Rooms: channels, DMs, settings, archive, membership and read state."""

from __future__ import annotations

from typing import Any

import pytest

from accounts import services as accounts_services
from accounts.models import AuditEvent
from chat import selectors, services
from chat.models import Room, RoomKind, RoomMember, RoomRole
from chat.tests.helpers import channel, committed, direct, events_named, membership_of, send, team
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def error_of(call: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value


def test_an_agent_creates_a_channel_as_its_owner(published: Any) -> None:
    world = team()

    with committed():
        room = services.room_create_channel(
            user=world.agent,
            organization_id=world.organization.pk,
            kind=RoomKind.PRIVATE,
            name=" #Sales Team ",
            topic="Q3",
            member_ids=[world.agent2.pk, world.agent.pk],
        )

    assert (room.name, room.topic, room.kind) == ("sales-team", "Q3", "private")
    assert sorted(RoomMember.objects.filter(room=room).values_list("user_id", "role")) == sorted(
        [(world.agent.pk, RoomRole.OWNER), (world.agent2.pk, RoomRole.MEMBER)]
    )
    added = events_named(published, "chat.room.added")
    assert sorted(group for group, _data in added) == sorted(
        [f"user.{world.agent.pk}", f"user.{world.agent2.pk}"]
    )
    assert added[0][1]["room"]["name"] == "sales-team"


def test_channel_names_are_unique_and_valid_and_viewers_create_nothing() -> None:
    world = team()
    channel(world.organization, owner=world.admin, name="geral")

    def create(user: Any, name: str, member_ids: Any = ()) -> Room:
        return services.room_create_channel(
            user=user,
            organization_id=world.organization.pk,
            kind=RoomKind.CHANNEL,
            name=name,
            member_ids=member_ids,
        )

    assert error_of(lambda: create(world.agent, "Geral")).code == "chat.channel_name_taken"
    assert error_of(lambda: create(world.agent, "no/slash")).code == "chat.invalid_name"
    outsider_error = error_of(lambda: create(world.agent, "x", [world.outsider.pk]))
    assert (outsider_error.code, outsider_error.extra) == (
        "chat.not_organization_member",
        {"user_ids": [world.outsider.pk]},
    )
    with pytest.raises(PermissionDeniedError):
        create(world.viewer, "mine")
    with pytest.raises(NotFoundError):
        create(world.outsider, "theirs")
    assert Room.objects.count() == 1


def test_a_dm_with_the_same_people_is_the_same_room(published: Any) -> None:
    world = team()

    with committed():
        room, created = services.direct_room_get_or_create(
            user=world.agent, organization_id=world.organization.pk, user_ids=[world.agent2.pk]
        )
    again, created_again = services.direct_room_get_or_create(
        user=world.agent2, organization_id=world.organization.pk, user_ids=[world.agent.pk]
    )
    group, _ = services.direct_room_get_or_create(
        user=world.agent,
        organization_id=world.organization.pk,
        user_ids=[world.agent2.pk, world.admin.pk],
    )

    assert (created, created_again, again.pk) == (True, False, room.pk)
    assert room.kind == RoomKind.DIRECT
    assert room.direct_key == ":".join(str(pk) for pk in sorted([world.agent.pk, world.agent2.pk]))
    assert group.kind == RoomKind.GROUP
    added = events_named(published, "chat.room.added")
    by_user = {group_name: data["room"] for group_name, data in added}
    assert by_user[f"user.{world.agent2.pk}"]["direct_members"] == [
        {"id": world.agent.pk, "name": "Bruno Agente", "avatar_url": None}
    ]


def test_dms_stay_inside_the_organization_and_viewers_start_none(settings: Any) -> None:
    settings.CHAT_GROUP_DM_MAX_MEMBERS = 3
    world = team()

    def open_dm(user: Any, user_ids: list[int]) -> Any:
        return services.direct_room_get_or_create(
            user=user, organization_id=world.organization.pk, user_ids=user_ids
        )

    assert error_of(lambda: open_dm(world.agent, [world.outsider.pk])).code == (
        "chat.not_organization_member"
    )
    assert error_of(lambda: open_dm(world.agent, [world.agent.pk])).code == (
        "chat.invalid_direct_people"
    )
    too_many = [world.agent2.pk, world.admin.pk, world.viewer.pk]
    assert error_of(lambda: open_dm(world.agent, too_many)).code == "chat.invalid_direct_people"
    with pytest.raises(PermissionDeniedError):
        open_dm(world.viewer, [world.agent.pk])
    assert Room.objects.count() == 0


def test_channel_settings_belong_to_its_managers(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.agent2])

    with pytest.raises(PermissionDeniedError):
        services.room_update(user=world.agent2, room=room, topic="mine now")
    with committed():
        services.room_update(user=world.agent, room=room, name="renamed", topic="new")
        services.room_update(user=world.admin, room=room, topic="by the org admin")

    room.refresh_from_db()
    assert (room.name, room.topic) == ("renamed", "by the org admin")
    assert [data for _g, data in events_named(published, "chat.room.updated")][-1] == {
        "room_id": room.pk,
        "name": "renamed",
        "topic": "by the org admin",
        "archived": False,
    }


def test_dms_cannot_be_renamed_archived_or_left() -> None:
    world = team()
    room = direct(world.organization, world.agent, world.admin)

    with pytest.raises(PermissionDeniedError):
        services.room_update(user=world.admin, room=room, name="x")
    with pytest.raises(PermissionDeniedError):
        services.room_archive(user=world.admin, room=room)
    assert error_of(lambda: services.room_leave(user=world.agent, room=room)).code == (
        "chat.cannot_leave_direct"
    )


def test_a_group_dm_can_be_left(published: Any) -> None:
    world = team()
    room = direct(world.organization, world.agent, world.admin, world.agent2)

    with committed():
        services.room_leave(user=world.agent2, room=room)

    assert not RoomMember.objects.filter(room=room, user=world.agent2).exists()
    assert events_named(published, "chat.room.removed") == [
        (f"user.{world.agent2.pk}", {"room_id": room.pk})
    ]
    revokes = [m for g, m in published if m["event"] == "realtime.revoke"]
    assert revokes == [
        {"type": "realtime.revoke", "event": "realtime.revoke", "topic": f"chat.room.{room.pk}"}
    ]


def test_archiving_closes_the_channel_and_is_audited() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)

    services.room_archive(user=world.admin, room=room)
    services.room_archive(user=world.admin, room=room)

    room.refresh_from_db()
    assert room.archived_at is not None
    assert AuditEvent.objects.filter(action="chat.room_archived").count() == 1
    assert error_of(lambda: send(room, world.agent, "x")).code == "chat.room_archived"
    services.room_unarchive(user=world.agent, room=room)
    room.refresh_from_db()
    assert send(room, world.agent, "back").body == "back"


def test_anyone_in_the_organization_joins_a_public_channel_but_not_a_private_one(
    published: Any,
) -> None:
    world = team()
    public = channel(world.organization, owner=world.admin)
    earlier = send(public, world.admin, "history")
    private = channel(world.organization, owner=world.admin, kind=RoomKind.PRIVATE)

    with committed():
        member = services.room_join(user=world.viewer, room=public)
    services.room_join(user=world.viewer, room=public)

    assert member.last_read_message_id == earlier.pk
    assert RoomMember.objects.filter(room=public, user=world.viewer).count() == 1
    assert events_named(published, "chat.member.joined") == [
        (f"chat.room.{public.pk}", {"room_id": public.pk, "user_id": world.viewer.pk})
    ]
    with pytest.raises(NotFoundError):
        services.room_join(user=world.agent, room=private)
    with pytest.raises(NotFoundError):
        services.room_join(user=world.outsider, room=public)


def test_invitations_removals_and_roles(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, kind=RoomKind.PRIVATE)

    with committed():
        added = services.room_members_add(
            user=world.agent, room=room, user_ids=[world.agent2.pk, world.viewer.pk]
        )
    with pytest.raises(PermissionDeniedError):
        services.room_members_add(user=world.viewer, room=room, user_ids=[world.admin.pk])
    with pytest.raises(PermissionDeniedError):
        services.room_member_remove(user=world.agent2, room=room, user_id=world.viewer.pk)
    services.room_member_role_set(
        user=world.agent, room=room, user_id=world.agent2.pk, role=RoomRole.ADMIN
    )
    with pytest.raises(PermissionDeniedError):
        services.room_member_remove(user=world.agent2, room=room, user_id=world.agent.pk)
    with committed():
        services.room_member_remove(user=world.agent2, room=room, user_id=world.viewer.pk)

    assert sorted(m.user_id for m in added) == sorted([world.agent2.pk, world.viewer.pk])
    assert sorted(RoomMember.objects.filter(room=room).values_list("user_id", "role")) == sorted(
        [(world.agent.pk, RoomRole.OWNER), (world.agent2.pk, RoomRole.ADMIN)]
    )
    assert AuditEvent.objects.filter(action="chat.member_removed").count() == 1
    assert (f"user.{world.viewer.pk}", {"room_id": room.pk}) in events_named(
        published, "chat.room.removed"
    )


def test_mark_read_never_moves_backwards_and_counts_unread(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent])
    first = send(room, world.admin, "one")
    send(room, world.admin, f"<@{world.agent.pk}> two")
    send(room, world.agent, "mine does not count")

    assert selectors.room_read_state(user=world.agent, room=room) == {
        "last_read_message_id": RoomMember.objects.get(
            room=room, user=world.agent
        ).last_read_message_id,
        "unread_count": 0,
        "mention_count": 0,
    }
    RoomMember.objects.filter(room=room, user=world.agent).update(last_read_message_id=0)
    assert selectors.room_read_state(user=world.agent, room=room) == {
        "last_read_message_id": 0,
        "unread_count": 2,
        "mention_count": 1,
    }

    with committed():
        state = services.room_mark_read(user=world.agent, room=room, message_id=first.pk)
        services.room_mark_read(user=world.agent, room=room, message_id=first.pk)

    assert state == {"last_read_message_id": first.pk, "unread_count": 1, "mention_count": 1}
    assert events_named(published, "chat.room.read") == [
        (
            f"chat.room.{room.pk}",
            {"room_id": room.pk, "user_id": world.agent.pk, "last_read_message_id": first.pk},
        ),
        (
            f"user.{world.agent.pk}",
            {
                "room_id": room.pk,
                "last_read_message_id": first.pk,
                "unread_count": 0,
                "mention_count": 0,
            },
        ),
    ]
    latest = services.room_mark_read(user=world.agent, room=room)
    assert latest["unread_count"] == 0
    assert services.room_mark_read(user=world.agent, room=room, message_id=first.pk) == latest


def test_viewers_mark_read_and_choose_notifications() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.viewer])
    send(room, world.agent, "hello")

    state = services.room_mark_read(user=world.viewer, room=room)
    member = services.room_notify_set(user=world.viewer, room=room, notify="mentions")

    assert state["unread_count"] == 0
    assert member.notify == "mentions"


def test_leaving_the_organization_ends_its_room_seats(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent])
    dm = direct(world.organization, world.agent, world.agent2)
    elsewhere = channel(world.other_organization, owner=world.outsider)
    accounts_services.membership_create(
        organization=world.other_organization, user=world.agent, role="agent"
    )
    RoomMember.objects.create(room=elsewhere, user=world.agent)

    with committed():
        accounts_services.membership_remove(
            membership=membership_of(world.agent, world.organization), actor=world.admin
        )

    assert list(RoomMember.objects.filter(user=world.agent).values_list("room_id", flat=True)) == [
        elsewhere.pk
    ]
    assert sorted(data["room_id"] for _g, data in events_named(published, "chat.room.removed")) == (
        sorted([room.pk, dm.pk])
    )
    assert selectors.room_is_member(user=world.agent, room_id=room.pk) is False
