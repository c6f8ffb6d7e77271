"""Chat over the real socket (config.asgi): presence from heartbeats, typing, room events."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from chat import presence
from chat.models import PresenceConnection, Room
from chat.tests.helpers import Team, channel, send, team
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

# Work in a worker thread (the database) may take a moment on a busy machine.
WAIT = 5


async def connect(user: User) -> WebsocketCommunicator:
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
    communicator = WebsocketCommunicator(
        application, f"/ws/?token={token}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    assert connected is True
    hello = await communicator.receive_json_from(timeout=WAIT)
    assert hello["type"] == "realtime.hello"
    return communicator


async def subscribe(communicator: WebsocketCommunicator, topic: str) -> dict[str, Any]:
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
    return frame


async def heartbeat(
    communicator: WebsocketCommunicator, *, active: bool = True, room: int | None = None
) -> None:
    await communicator.send_json_to(
        {"action": "heartbeat", "active": active, "visible": True, "room": room}
    )


async def next_of_type(communicator: WebsocketCommunicator, event: str) -> dict[str, Any]:
    """The next frame of this type, skipping others (notifications to the user's own group)."""
    for _ in range(10):
        frame: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] == event:
            return frame
    raise AssertionError(f"no {event} frame")


@pytest.fixture
async def people() -> Team:
    return await database_sync_to_async(team)()


@pytest.fixture
async def room(people: Team) -> Room:
    return await database_sync_to_async(channel)(
        people.organization, owner=people.admin, members=[people.agent, people.agent2]
    )


def presence_frame(user: User, state: str) -> dict[str, Any]:
    return {
        "type": "chat.presence.changed",
        "data": {
            "user_id": user.pk,
            "state": state,
            "status_text": "",
            "status_emoji": "",
            "dnd": False,
        },
    }


async def test_a_heartbeat_records_the_socket_and_tells_the_organization(people: Team) -> None:
    observer = await connect(people.admin)
    await subscribe(observer, f"chat.presence.{people.organization.pk}")
    agent = await connect(people.agent)

    await heartbeat(agent)

    assert await observer.receive_json_from(timeout=WAIT) == presence_frame(people.agent, "online")
    rows = await database_sync_to_async(
        lambda: list(
            PresenceConnection.objects.filter(user=people.agent).values_list(
                "visible", "viewing_room_id"
            )
        )
    )()
    assert rows == [(True, None)]
    await agent.disconnect()
    await observer.disconnect()


async def test_closing_the_last_socket_tells_the_organization_offline(people: Team) -> None:
    observer = await connect(people.admin)
    await subscribe(observer, f"chat.presence.{people.organization.pk}")
    agent = await connect(people.agent)
    await heartbeat(agent)
    await observer.receive_json_from(timeout=WAIT)

    await agent.disconnect()

    assert await observer.receive_json_from(timeout=WAIT) == presence_frame(people.agent, "offline")
    assert (
        await database_sync_to_async(PresenceConnection.objects.filter(user=people.agent).count)()
        == 0
    )
    await observer.disconnect()


async def test_two_tabs_stay_online_when_one_closes(people: Team) -> None:
    observer = await connect(people.admin)
    await subscribe(observer, f"chat.presence.{people.organization.pk}")
    first, second = await connect(people.agent), await connect(people.agent)
    await heartbeat(first)
    await observer.receive_json_from(timeout=WAIT)
    await heartbeat(second)

    await first.disconnect()

    assert await observer.receive_nothing(timeout=0.5) is True
    states = await database_sync_to_async(presence.states_for_users)([people.agent.pk])
    assert states == {people.agent.pk: "online"}
    await second.disconnect()
    assert await observer.receive_json_from(timeout=WAIT) == presence_frame(people.agent, "offline")
    await observer.disconnect()


async def test_a_heartbeat_with_a_room_marks_the_member_as_looking_at_it(
    people: Team, room: Room
) -> None:
    agent = await connect(people.agent)

    await heartbeat(agent, room=room.pk)
    await agent.send_json_to({"action": "ping"})
    await agent.receive_json_from(timeout=WAIT)  # the pong: the heartbeat was handled before it

    looking = await database_sync_to_async(presence.user_is_viewing_room)(
        user_id=people.agent.pk, room_id=room.pk
    )
    assert looking is True
    await agent.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "heartbeat"},
        {"action": "heartbeat", "active": "yes", "visible": True},
        {"action": "heartbeat", "active": True, "visible": True, "room": "1"},
        {"action": "heartbeat", "active": True, "visible": True, "room": True},
    ],
)
async def test_a_malformed_heartbeat_is_a_bad_frame_and_records_nothing(
    people: Team, frame: dict[str, Any]
) -> None:
    agent = await connect(people.agent)

    await agent.send_json_to(frame)

    error = await agent.receive_json_from(timeout=WAIT)
    assert (error["type"], error["data"]["code"]) == ("realtime.error", "realtime.bad_frame")
    connection = await database_sync_to_async(PresenceConnection.objects.get)(user=people.agent)
    assert connection.last_active_at is None
    await agent.disconnect()


async def test_typing_is_relayed_to_the_other_members_following_the_room(
    people: Team, room: Room
) -> None:
    watcher, typist = await connect(people.agent2), await connect(people.agent)
    topic = f"chat.room.{room.pk}"
    await subscribe(watcher, topic)
    await subscribe(typist, topic)

    await typist.send_json_to({"action": "typing", "room": room.pk, "thread": None})
    relayed = await watcher.receive_json_from(timeout=WAIT)
    # A second key press within two seconds is not relayed again.
    await typist.send_json_to({"action": "typing", "room": room.pk, "thread": None})

    assert relayed == {
        "type": "chat.typing",
        "data": {
            "room_id": room.pk,
            "thread_id": None,
            "user_id": people.agent.pk,
            "name": "Bruno Agente",
        },
    }
    assert await watcher.receive_nothing(timeout=0.5) is True
    await watcher.disconnect()
    await typist.disconnect()


async def test_typing_in_a_thread_names_the_thread(people: Team, room: Room) -> None:
    watcher, typist = await connect(people.agent2), await connect(people.agent)
    await subscribe(watcher, f"chat.room.{room.pk}")
    await subscribe(typist, f"chat.room.{room.pk}")

    await typist.send_json_to({"action": "typing", "room": room.pk, "thread": 42})
    in_thread = await watcher.receive_json_from(timeout=WAIT)
    # Typing in the room right after is another indicator, not a repeat of the thread's.
    await typist.send_json_to({"action": "typing", "room": room.pk, "thread": None})
    in_room = await watcher.receive_json_from(timeout=WAIT)

    assert (in_thread["data"]["thread_id"], in_room["data"]["thread_id"]) == (42, None)
    await watcher.disconnect()
    await typist.disconnect()


async def test_typing_in_a_room_the_socket_does_not_follow_is_refused(
    people: Team, room: Room
) -> None:
    watcher = await connect(people.agent2)
    await subscribe(watcher, f"chat.room.{room.pk}")
    # A member of the room, but this socket never subscribed to it.
    typist = await connect(people.agent)

    await typist.send_json_to({"action": "typing", "room": room.pk, "thread": None})

    assert await typist.receive_json_from(timeout=WAIT) == {
        "type": "realtime.error",
        "data": {
            "code": "chat.typing_refused",
            "message": "Follow the room before typing in it.",
            "room": room.pk,
        },
    }
    assert await watcher.receive_nothing(timeout=0.5) is True
    await watcher.disconnect()
    await typist.disconnect()


async def test_room_events_reach_the_members_following_the_room(people: Team, room: Room) -> None:
    watcher = await connect(people.agent2)
    assert await subscribe(watcher, f"chat.room.{room.pk}") == {
        "type": "realtime.subscribed",
        "data": {"topic": f"chat.room.{room.pk}"},
    }

    message = await database_sync_to_async(send)(room, people.agent, "hello team")

    created = await next_of_type(watcher, "chat.message.created")
    assert created["data"]["message"]["id"] == message.pk
    assert created["data"]["message"]["body"] == "hello team"
    await watcher.disconnect()


async def test_someone_outside_the_room_cannot_follow_it(people: Team, room: Room) -> None:
    viewer, outsider = await connect(people.viewer), await connect(people.outsider)

    refused = [
        await subscribe(viewer, f"chat.room.{room.pk}"),
        await subscribe(outsider, f"chat.room.{room.pk}"),
        await subscribe(outsider, f"chat.presence.{people.organization.pk}"),
    ]

    assert [frame["data"]["code"] for frame in refused] == ["realtime.topic_refused"] * 3
    await database_sync_to_async(send)(room, people.agent, "not for you")
    assert await outsider.receive_nothing(timeout=0.5) is True
    await viewer.disconnect()
    await outsider.disconnect()


def test_a_socket_repeating_the_same_heartbeat_or_flooding_is_held_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chat import socket

    clock = [100.0]
    monkeypatch.setattr(socket.time, "monotonic", lambda: clock[0])
    state: dict[str, Any] = {}
    same = (True, True, None)

    def allowed(report: tuple[bool, bool, int | None], *, after: float = 0) -> bool:
        clock[0] += after
        return socket._heartbeat_allowed(state, report)

    assert [
        allowed(same),
        allowed(same, after=1),  # the same report again at once: dropped
        allowed((False, True, None), after=0.1),  # a change goes through at once
        allowed((False, True, None), after=5),  # the same report, 5 s later
    ] == [True, False, True, True]
    # A flood of changing reports: at most 10 in 10 seconds.
    flood = [allowed((True, True, room), after=0.01) for room in range(1, 20)]
    assert flood.count(True) == 10 - 3
    assert allowed((True, True, 99), after=10) is True
