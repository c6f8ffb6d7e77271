"""The notification centre's API: my feed, my unread count, marking read; nobody else's."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from chat import notifications
from chat.models import Notification, Room
from chat.tests.helpers import (
    assert_error,
    channel,
    client_for,
    committed,
    events_named,
    send,
    team,
)

pytestmark = pytest.mark.django_db


def notify(
    user: User, source: str, *, room: Room | None = None, actor: User | None = None
) -> Notification:
    notification = notifications.notification_create(
        user_id=user.pk,
        kind="mention",
        source=source,
        title=f"title {source}",
        body=f"body {source}",
        url=f"/chat/{room.pk if room else 0}?message=1",
        data={"room_id": room.pk if room else None, "message_id": 1, "thread_id": None},
        actor_id=actor.pk if actor else None,
        room_id=room.pk if room else None,
    )
    assert notification is not None
    return notification


def when(value: Any) -> str | None:
    """A moment as the API writes it (DRF's ISO 8601, in the active time zone)."""
    return None if value is None else serializers.DateTimeField().to_representation(value)


def expected(notification: Notification) -> dict[str, Any]:
    notification.refresh_from_db()
    actor = notification.actor
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "room_id": notification.room_id,
        "data": notification.data,
        "actor": {"id": actor.pk, "name": actor.get_full_name()} if actor else None,
        "created_at": when(notification.created_at),
        "read_at": when(notification.read_at),
    }


# --- Permission matrix --------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/notifications/"),
    ("get", "/api/v1/notifications/?unread=1"),
    ("get", "/api/v1/notifications/summary/"),
    ("post", "/api/v1/notifications/{mine}/read/"),
    ("post", "/api/v1/notifications/read-all/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_are_refused_and_nothing_changes(method: str, url: str) -> None:
    world = team()
    mine = notify(world.agent, "a")

    response = getattr(client_for(None), method)(url.format(mine=mine.pk), format="json")

    assert_error(response, 401, "not_authenticated")
    assert Notification.objects.get().read_at is None


def test_another_persons_notification_is_not_found_and_stays_unread() -> None:
    world = team()
    theirs = notify(world.agent2, "a")

    response = client_for(world.agent).post(f"/api/v1/notifications/{theirs.pk}/read/")

    assert_error(response, 404, "chat.notification_not_found")
    assert Notification.objects.get().read_at is None


def test_a_notification_that_never_existed_gets_the_same_answer() -> None:
    world = team()

    response = client_for(world.agent).post("/api/v1/notifications/999999/read/")

    assert_error(response, 404, "chat.notification_not_found")


def test_read_all_leaves_other_peoples_notifications_alone() -> None:
    world = team()
    notify(world.agent, "a")
    theirs = notify(world.agent2, "b")

    response = client_for(world.agent).post("/api/v1/notifications/read-all/", {}, format="json")

    assert (response.status_code, response.json()) == (200, {"marked": 1, "unread_count": 0})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_feed_and_summary_show_only_my_own() -> None:
    world = team()
    mine = notify(world.agent, "a")
    notify(world.agent2, "b")

    feed = client_for(world.agent).get("/api/v1/notifications/")
    summary = client_for(world.agent).get("/api/v1/notifications/summary/")

    assert [item["id"] for item in feed.json()["results"]] == [mine.pk]
    assert summary.json() == {"unread_count": 1}


# --- Payloads -----------------------------------------------------------------------------


def test_the_feed_lists_my_notifications_newest_first_with_the_exact_shape() -> None:
    world = team()
    room = channel(world.organization, members=[world.agent])
    older = notify(world.agent, "a", room=room, actor=world.admin)
    newer = notify(world.agent, "b")

    response = client_for(world.agent).get("/api/v1/notifications/")

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [expected(newer), expected(older)],
    }


def test_the_unread_filter_leaves_out_read_ones() -> None:
    world = team()
    read = notify(world.agent, "a")
    unread = notify(world.agent, "b")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    response = client_for(world.agent).get("/api/v1/notifications/?unread=1")
    everything = client_for(world.agent).get("/api/v1/notifications/")

    assert [item["id"] for item in response.json()["results"]] == [unread.pk]
    assert [item["id"] for item in everything.json()["results"]] == [unread.pk, read.pk]


def test_the_feed_pages_by_cursor_without_gaps_or_repeats() -> None:
    world = team()
    made = [notify(world.agent, f"n{index}") for index in range(5)]
    client = client_for(world.agent)

    seen: list[int] = []
    url: str | None = "/api/v1/notifications/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]

    assert seen == [n.pk for n in reversed(made)]


def test_the_feed_costs_the_same_queries_for_2_and_20_notifications(
    django_assert_num_queries: Any,
) -> None:
    world = team()
    client = client_for(world.agent)
    for count in (2, 20):
        Notification.objects.all().delete()
        for index in range(count):
            notify(world.agent, f"n{index}", actor=world.admin)
        with django_assert_num_queries(1):
            response = client.get("/api/v1/notifications/")
        assert len(response.json()["results"]) == count


def test_the_summary_counts_unread() -> None:
    world = team()
    notify(world.agent, "a")
    read = notify(world.agent, "b")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    response = client_for(world.agent).get("/api/v1/notifications/summary/")

    assert (response.status_code, response.json()) == (200, {"unread_count": 1})


def test_marking_one_read_answers_it_and_the_new_count_and_tells_my_tabs(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    world = team()
    first = notify(world.agent, "a")
    notify(world.agent, "b")

    with committed():
        response = client_for(world.agent).post(f"/api/v1/notifications/{first.pk}/read/")

    assert response.status_code == 200
    body = response.json()
    assert body == {"notification": expected(first), "unread_count": 1}
    assert body["notification"]["read_at"] is not None
    assert events_named(published, "chat.notification.read") == [
        (f"user.{world.agent.pk}", {"ids": [first.pk], "unread_count": 1})
    ]


def test_read_all_for_one_room_marks_only_that_rooms() -> None:
    world = team()
    room = channel(world.organization, members=[world.agent])
    in_room = notify(world.agent, "a", room=room)
    elsewhere = notify(world.agent, "b")

    response = client_for(world.agent).post(
        "/api/v1/notifications/read-all/", {"room_id": room.pk}, format="json"
    )

    assert (response.status_code, response.json()) == (200, {"marked": 1, "unread_count": 1})
    in_room.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (in_room.read_at is not None, elsewhere.read_at) == (True, None)


def test_read_all_refuses_a_bad_room_id() -> None:
    world = team()
    notify(world.agent, "a")

    response = client_for(world.agent).post(
        "/api/v1/notifications/read-all/", {"room_id": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert Notification.objects.get().read_at is None


def test_opening_a_thread_reads_the_notifications_of_its_replies_only(published: Any) -> None:
    world = team()
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    with committed():
        root = send(room, world.agent, "a question")
        other_root = send(room, world.agent, "another question")
        send(room, world.agent2, "first answer", parent_id=root.pk)
        send(room, world.agent2, "second answer", parent_id=root.pk)
        send(room, world.agent2, "elsewhere", parent_id=other_root.pk)
    about_root = list(
        Notification.objects.filter(user=world.agent, data__thread_id=root.pk).order_by("pk")
    )
    published.clear()

    with committed():
        response = client_for(world.agent).post(
            "/api/v1/notifications/read-all/", {"thread_id": root.pk}, format="json"
        )

    assert (response.status_code, response.json()) == (200, {"marked": 2, "unread_count": 1})
    assert [n.kind for n in about_root] == ["thread_reply", "thread_reply"]
    assert list(
        Notification.objects.filter(user=world.agent, read_at__isnull=True).values_list(
            "data__thread_id", flat=True
        )
    ) == [other_root.pk]
    assert events_named(published, "chat.notification.read") == [
        (f"user.{world.agent.pk}", {"ids": [n.pk for n in about_root], "unread_count": 1})
    ]
