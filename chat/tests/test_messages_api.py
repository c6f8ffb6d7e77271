"""The messages API: shapes, inert XSS in the output, resync after reconnecting, throttling."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.throttling import SimpleRateThrottle

from chat.models import Message
from chat.tests.helpers import assert_error, channel, client_for, direct, send, team

pytestmark = pytest.mark.django_db


def test_it_posts_a_message_and_answers_its_shape() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])

    response = client_for(world.agent).post(
        f"/api/v1/chat/rooms/{room.pk}/messages/",
        {"body": f"hi <@{world.admin.pk}> :tada:", "client_id": "abc"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    message = Message.objects.get()
    assert body == {
        "id": message.pk,
        "room_id": room.pk,
        "author": {"id": world.agent.pk, "name": "Bruno Agente", "avatar_url": None},
        "kind": "text",
        "body": f"hi <@{world.admin.pk}> :tada:",
        "html": (
            f'hi <span class="mention" data-user-id="{world.admin.pk}">@Ana Admin</span> '
            '<span class="emoji" title=":tada:">🎉</span>'
        ),
        "parent_id": None,
        "reply_count": 0,
        "last_reply_at": None,
        "mentions": [world.admin.pk],
        "mentions_all": False,
        "mentions_here": False,
        "reactions": [],
        "attachments": [],
        "created_at": body["created_at"],
        "edited_at": None,
        "deleted": False,
        "pinned": False,
        "pinned_at": None,
        "client_id": "abc",
    }
    again = client_for(world.agent).post(
        f"/api/v1/chat/rooms/{room.pk}/messages/",
        {"body": "ignored", "client_id": "abc"},
        format="json",
    )
    assert (again.status_code, again.json()["id"]) == (200, message.pk)
    assert Message.objects.count() == 1


def test_xss_is_stored_as_typed_and_returned_inert() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    payload = "<script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1)"

    posted = client_for(world.agent).post(
        f"/api/v1/chat/rooms/{room.pk}/messages/", {"body": payload}, format="json"
    )
    listed = client_for(world.agent).get(f"/api/v1/chat/rooms/{room.pk}/messages/")

    assert posted.status_code == 201
    assert Message.objects.get().body == payload
    html = listed.json()["results"][0]["html"]
    assert html == (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; "
        "javascript:alert(1)"
    )


def test_a_reconnecting_client_gets_what_it_missed_after_its_last_id() -> None:
    world = team()
    room = direct(world.organization, world.agent, world.agent2)
    last_seen = send(room, world.agent2, "before the drop").pk
    # agent's socket drops; agent2 keeps writing.
    missed = [
        client_for(world.agent2)
        .post(f"/api/v1/chat/rooms/{room.pk}/messages/", {"body": f"m{n}"}, format="json")
        .json()["id"]
        for n in range(3)
    ]

    resync = client_for(world.agent).get(
        f"/api/v1/chat/rooms/{room.pk}/messages/?after={last_seen}"
    )
    rooms = client_for(world.agent).get(
        f"/api/v1/organizations/{world.organization.pk}/chat/rooms/"
    )

    assert resync.status_code == 200
    assert [m["id"] for m in resync.json()["results"]] == missed
    assert resync.json()["has_more"] is False
    assert [(r["id"], r["unread_count"]) for r in rooms.json()] == [(room.pk, 4)]


def test_a_flood_is_throttled_with_the_error_shape_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "chat_message": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    world = team()
    room = channel(world.organization, owner=world.agent)
    client = client_for(world.agent)
    url = f"/api/v1/chat/rooms/{room.pk}/messages/"

    statuses = [client.post(url, {"body": f"m{n}"}, format="json").status_code for n in range(2)]
    flooded = client.post(url, {"body": "one too many"}, format="json")

    assert statuses == [201, 201]
    assert flooded.status_code == 429
    assert set(flooded.json()) == {"code", "message", "extra"}
    assert flooded.json()["code"] == "throttled"
    assert list(Message.objects.values_list("body", flat=True).order_by("pk")) == ["m0", "m1"]
    # Reading is not throttled by the posting scope.
    assert client.get(url).status_code == 200


def test_posting_to_archived_or_foreign_rooms_errors_and_stores_nothing() -> None:
    world = team()
    archived = channel(world.organization, owner=world.agent, archived=True)
    foreign = channel(world.other_organization, owner=world.outsider)
    client = client_for(world.agent)

    assert_error(
        client.post(f"/api/v1/chat/rooms/{archived.pk}/messages/", {"body": "x"}, format="json"),
        409,
        "chat.room_archived",
    )
    assert_error(
        client.post(f"/api/v1/chat/rooms/{foreign.pk}/messages/", {"body": "x"}, format="json"),
        404,
        "not_found",
    )
    assert Message.objects.count() == 0


def test_mentioning_someone_outside_the_room_is_422_with_their_ids() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)

    response = client_for(world.agent).post(
        f"/api/v1/chat/rooms/{room.pk}/messages/",
        {"body": f"<@{world.agent2.pk}>"},
        format="json",
    )

    assert_error(response, 422, "chat.mention_not_member", {"user_ids": [world.agent2.pk]})
    assert Message.objects.count() == 0


def test_edit_delete_react_pin_and_thread_through_the_api() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.admin])
    message = send(room, world.agent, "first")
    agent, admin = client_for(world.agent), client_for(world.admin)

    edited = agent.patch(
        f"/api/v1/chat/messages/{message.pk}/", {"body": "**first**"}, format="json"
    )
    refused = admin.patch(f"/api/v1/chat/messages/{message.pk}/", {"body": "x"}, format="json")
    reacted = admin.post(
        f"/api/v1/chat/messages/{message.pk}/reactions/", {"emoji": "tada"}, format="json"
    )
    pinned = admin.post(f"/api/v1/chat/messages/{message.pk}/pin/")
    pins = agent.get(f"/api/v1/chat/rooms/{room.pk}/pins/")
    reply = admin.post(
        f"/api/v1/chat/rooms/{room.pk}/messages/",
        {"body": "reply", "parent_id": message.pk},
        format="json",
    )
    replies = agent.get(f"/api/v1/chat/messages/{message.pk}/replies/")
    unreacted = admin.delete(f"/api/v1/chat/messages/{message.pk}/reactions/tada/")
    deleted = admin.delete(f"/api/v1/chat/messages/{message.pk}/")

    assert edited.status_code == 200
    assert edited.json()["html"] == "<strong>first</strong>"
    assert edited.json()["edited_at"] is not None
    assert_error(refused, 403, "chat.permission_denied")
    assert reacted.json()["reactions"] == [
        {"emoji": "tada", "char": "🎉", "count": 1, "user_ids": [world.admin.pk]}
    ]
    assert pinned.json()["pinned"] is True
    assert [m["id"] for m in pins.json()] == [message.pk]
    assert reply.status_code == 201
    assert [m["id"] for m in replies.json()["results"]] == [reply.json()["id"]]
    assert unreacted.json()["reactions"] == []
    assert deleted.status_code == 200
    trace = deleted.json()
    assert (trace["deleted"], trace["body"], trace["html"], trace["reply_count"]) == (
        True,
        "",
        "",
        1,
    )


def test_the_message_page_validates_its_cursor() -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)

    response = client_for(world.agent).get(
        f"/api/v1/chat/rooms/{room.pk}/messages/?before=5&after=2"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_the_message_page_has_a_fixed_query_count(django_assert_max_num_queries: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent)
    for n in range(20):
        send(room, world.agent, f"m{n}")
    client = client_for(world.agent)

    # Auth-free client (force_authenticate): room visibility, then the page's four queries.
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/chat/rooms/{room.pk}/messages/?limit=20")

    assert len(response.json()["results"]) == 20
