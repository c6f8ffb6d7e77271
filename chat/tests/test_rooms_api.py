"""The rooms API: lists, creation, DMs, browse, people, detail, membership and read state."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Room, RoomMember
from chat.tests.helpers import assert_error, channel, client_for, direct, send, team

pytestmark = pytest.mark.django_db


def test_my_room_list_has_the_documented_shape() -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.agent], name="geral")
    message = send(room, world.admin, f"<@{world.agent.pk}> hi")

    response = client_for(world.agent).get(
        f"/api/v1/organizations/{world.organization.pk}/chat/rooms/"
    )

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": room.pk,
            "organization_id": world.organization.pk,
            "kind": "channel",
            "name": "geral",
            "topic": "",
            "archived": False,
            "archived_at": None,
            "created_at": response.json()[0]["created_at"],
            "last_message_at": response.json()[0]["last_message_at"],
            "role": "member",
            "notify": "all",
            "last_read_message_id": 0,
            "unread_count": 1,
            "mention_count": 1,
            "member_count": 2,
            "direct_members": [],
        }
    ]
    assert message.pk > 0


def test_the_room_list_costs_a_fixed_number_of_queries(
    django_assert_num_queries: Any,
) -> None:
    world = team()
    for _ in range(5):
        send(channel(world.organization, owner=world.admin, members=[world.agent]), world.admin)
    direct(world.organization, world.agent, world.agent2)
    client = client_for(world.agent)

    # Membership check, then the rooms with their counts, then the DM members.
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/organizations/{world.organization.pk}/chat/rooms/")

    assert len(response.json()) == 6


def test_creating_a_channel_and_opening_dms() -> None:
    world = team()
    client = client_for(world.agent)
    org = world.organization.pk

    created = client.post(
        f"/api/v1/organizations/{org}/chat/rooms/",
        {"kind": "private", "name": "Gestão", "member_ids": [world.admin.pk]},
        format="json",
    )
    dm = client.post(
        f"/api/v1/organizations/{org}/chat/direct/", {"user_ids": [world.agent2.pk]}, format="json"
    )
    dm_again = client_for(world.agent2).post(
        f"/api/v1/organizations/{org}/chat/direct/", {"user_ids": [world.agent.pk]}, format="json"
    )

    assert created.status_code == 201
    assert (created.json()["name"], created.json()["role"], created.json()["member_count"]) == (
        "gestão",
        "owner",
        2,
    )
    assert (dm.status_code, dm_again.status_code) == (201, 200)
    assert dm.json()["id"] == dm_again.json()["id"]
    assert dm_again.json()["direct_members"] == [
        {"id": world.agent.pk, "name": "Bruno Agente", "avatar_url": None}
    ]
    wrong_kind = client.post(
        f"/api/v1/organizations/{org}/chat/rooms/", {"kind": "direct", "name": "x"}, format="json"
    )
    assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (400, "validation_error")
    assert list(wrong_kind.json()["extra"]["fields"]) == ["kind"]


def test_browsing_channels_and_joining() -> None:
    world = team()
    geral = channel(world.organization, owner=world.admin, name="geral")
    channel(world.organization, owner=world.admin, name="secret", kind="private")
    client = client_for(world.viewer)

    browse = client.get(f"/api/v1/organizations/{world.organization.pk}/chat/channels/?q=ger")
    joined = client.post(f"/api/v1/chat/rooms/{geral.pk}/join/")
    browse_after = client.get(f"/api/v1/organizations/{world.organization.pk}/chat/channels/")

    assert browse.json()["results"] == [
        {
            "id": geral.pk,
            "name": "geral",
            "topic": "",
            "member_count": 1,
            "is_member": False,
            "archived": False,
        }
    ]
    assert (joined.status_code, joined.json()["role"]) == (200, "member")
    assert [(c["name"], c["is_member"]) for c in browse_after.json()["results"]] == [
        ("geral", True)
    ]


def test_people_search_for_mentions() -> None:
    world = team()

    found = client_for(world.agent).get(
        f"/api/v1/organizations/{world.organization.pk}/chat/people/?q=carla"
    )
    everyone = client_for(world.agent).get(
        f"/api/v1/organizations/{world.organization.pk}/chat/people/"
    )

    assert found.json() == [
        {
            "id": world.agent2.pk,
            "name": "Carla Agente",
            "email": world.agent2.email,
            "avatar_url": None,
            "role": "agent",
        }
    ]
    assert everyone.json()["count"] == 4


def test_room_detail_lists_members_and_settings_change() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    client = client_for(world.agent)

    detail = client.get(f"/api/v1/chat/rooms/{room.pk}/")
    patched = client.patch(
        f"/api/v1/chat/rooms/{room.pk}/", {"name": "novo", "topic": "t"}, format="json"
    )
    refused = client_for(world.agent2).patch(
        f"/api/v1/chat/rooms/{room.pk}/", {"topic": "no"}, format="json"
    )

    assert [(m["id"], m["role"]) for m in detail.json()["members"]] == [
        (world.agent.pk, "owner"),
        (world.agent2.pk, "member"),
    ]
    assert (patched.json()["name"], patched.json()["topic"]) == ("novo", "t")
    assert_error(refused, 403, "chat.permission_denied")


def test_membership_endpoints() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, kind="private")
    client = client_for(world.agent)

    invited = client.post(
        f"/api/v1/chat/rooms/{room.pk}/members/", {"user_ids": [world.agent2.pk]}, format="json"
    )
    role = client.patch(
        f"/api/v1/chat/rooms/{room.pk}/members/{world.agent2.pk}/", {"role": "admin"}, format="json"
    )
    removed = client.delete(f"/api/v1/chat/rooms/{room.pk}/members/{world.agent2.pk}/")
    outsider = client.post(
        f"/api/v1/chat/rooms/{room.pk}/members/", {"user_ids": [world.outsider.pk]}, format="json"
    )

    assert [m["id"] for m in invited.json()["members"]] == [world.agent.pk, world.agent2.pk]
    assert [m["role"] for m in role.json()["members"]] == ["owner", "admin"]
    assert removed.status_code == 204
    assert_error(outsider, 422, "chat.not_organization_member", {"user_ids": [world.outsider.pk]})
    assert list(RoomMember.objects.filter(room=room).values_list("user_id", flat=True)) == [
        world.agent.pk
    ]


def test_read_and_preferences_endpoints() -> None:
    world = team()
    room = channel(world.organization, owner=world.admin, members=[world.viewer])
    first = send(room, world.admin, "one")
    send(room, world.admin, "two")
    client = client_for(world.viewer)

    read = client.post(
        f"/api/v1/chat/rooms/{room.pk}/read/", {"message_id": first.pk}, format="json"
    )
    prefs = client.patch(
        f"/api/v1/chat/rooms/{room.pk}/preferences/", {"notify": "nothing"}, format="json"
    )
    wrong = client.patch(
        f"/api/v1/chat/rooms/{room.pk}/preferences/", {"notify": "loud"}, format="json"
    )

    assert read.json() == {"last_read_message_id": first.pk, "unread_count": 1, "mention_count": 0}
    assert prefs.json() == {"notify": "nothing"}
    assert wrong.status_code == 400


def test_archive_and_leave_endpoints() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.agent2])

    archived = client_for(world.admin).post(f"/api/v1/chat/rooms/{room.pk}/archive/")
    left = client_for(world.agent2).post(f"/api/v1/chat/rooms/{room.pk}/leave/")
    unarchived = client_for(world.agent).post(f"/api/v1/chat/rooms/{room.pk}/unarchive/")

    assert archived.json()["archived"] is True
    assert left.status_code == 204
    assert unarchived.json()["archived"] is False
    assert Room.objects.get(pk=room.pk).archived_at is None
