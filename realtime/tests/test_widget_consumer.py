"""The /ws/widget/ socket end to end through the real ASGI application: the handshake's key,
token and origin, the contact's events (never a note), ping and the typing relay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from queueing import inbox, widget, widget_socket
from queueing.models import Contact
from queueing.tests import inbox_factories as make

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "https://escola.example"


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    # What QueueingConfig.ready() registers; registering again is a no-op.
    widget_socket.register()
    yield


class World:
    def __init__(self) -> None:
        self.org = make.organization(name="Escola Demo")
        self.widget = make.widget(self.org, [ORIGIN])
        self.queue = make.queue(self.org, strategy="manual")
        self.agent = make.agent(self.org, self.queue, display_name="Ana Lima")
        self.contact = make.contact(self.org, name="Bia")
        self.token = widget.visitor_token_make(self.contact)
        self.conversation = make.conversation(self.queue, who=self.contact, assignee=self.agent)
        other = make.contact(self.org, name="Outro")
        self.others = make.conversation(self.queue, who=other)


@pytest.fixture
async def world() -> World:
    return await database_sync_to_async(World)()


async def connect(
    *, key: str | None, token: str | None, origin: str | None = ORIGIN
) -> tuple[WebsocketCommunicator, bool, Any]:
    query = "&".join(
        f"{name}={value}" for name, value in (("key", key), ("token", token)) if value is not None
    )
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/widget/?{query}", headers=headers)
    connected, detail = await communicator.connect()
    return communicator, connected, detail


async def test_a_visitor_connects_and_is_greeted(world: World) -> None:
    communicator, connected, _ = await connect(key=world.widget.public_key, token=world.token)

    assert connected is True
    assert await communicator.receive_json_from() == {
        "type": "realtime.hello",
        "data": {"contact_id": world.contact.pk},
    }
    seen = await database_sync_to_async(
        lambda: Contact.objects.get(pk=world.contact.pk).last_seen_at
    )()
    assert seen is not None
    await communicator.disconnect()


@pytest.mark.parametrize(
    "case",
    [
        "no_key",
        "unknown_key",
        "disabled",
        "no_token",
        "bad_token",
        "other_org",
        "foreign_origin",
        "no_origin",
        "revoked",
    ],
)
async def test_a_bad_handshake_is_refused_before_it_is_accepted(world: World, case: str) -> None:
    key, token, origin = world.widget.public_key, world.token, ORIGIN
    if case == "no_key":
        key = None
    elif case == "unknown_key":
        key = "pk_nothing"
    elif case == "disabled":
        await database_sync_to_async(
            lambda: type(world.widget).objects.filter(pk=world.widget.pk).update(enabled=False)
        )()
    elif case == "no_token":
        token = None
    elif case == "bad_token":
        token = token[:-3] + "xyz"
    elif case == "other_org":
        other = await database_sync_to_async(lambda: make.widget(make.organization(), [ORIGIN]))()
        key = other.public_key
    elif case == "foreign_origin":
        origin = "https://evil.example"
    elif case == "no_origin":
        # Our own origin is not in the widget's list.
        origin = None
    elif case == "revoked":
        await database_sync_to_async(
            lambda: Contact.objects.filter(pk=world.contact.pk).update(
                visitor_id="00000000-0000-0000-0000-000000000002"
            )
        )()

    _, connected, code = await connect(key=key, token=token, origin=origin)

    assert (connected, code) == (False, 4401)


async def test_ping_is_answered(world: World) -> None:
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "ping"})
    pong = await communicator.receive_json_from()

    assert pong["type"] == "realtime.pong"
    assert set(pong["data"]) == {"server_time"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"action": "subscribe", "topic": "queueing.inbox.1"}, "realtime.unknown_action"),
        ({"action": "typing", "room": 1}, "realtime.unknown_action"),
        ({"action": "widget.typing", "conversation_id": "1"}, "realtime.bad_frame"),
    ],
)
async def test_staff_actions_and_malformed_frames_are_refused(
    world: World, frame: dict[str, Any], code: str
) -> None:
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    await communicator.send_json_to(frame)

    assert (await communicator.receive_json_from())["data"]["code"] == code
    await communicator.disconnect()


async def test_the_visitor_hears_replies_but_never_notes(world: World) -> None:
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    def write() -> tuple[int, int]:
        note = inbox.staff_message_send(
            actor=world.agent, conversation=world.conversation, body="cliente difícil", note=True
        )
        reply = inbox.staff_message_send(
            actor=world.agent, conversation=world.conversation, body="Olá!"
        )
        return note.pk, reply.pk

    _note_id, reply_id = await database_sync_to_async(write)()
    frames = []
    while not await communicator.receive_nothing(timeout=0.5):
        frames.append(await communicator.receive_json_from())

    messages = [frame for frame in frames if frame["type"] == "widget.message.created"]
    assert [frame["data"]["message"]["id"] for frame in messages] == [reply_id]
    assert messages[0]["data"]["conversation_id"] == world.conversation.pk
    assert messages[0]["data"]["message"]["author"]["name"] == "Ana"
    assert messages[0]["data"]["message"]["body"] == "Olá!"
    assert {frame["type"] for frame in frames} <= {
        "widget.message.created",
        "widget.conversation.updated",
    }
    assert "cliente difícil" not in repr(frames)
    await communicator.disconnect()


async def test_another_contacts_events_never_arrive(world: World) -> None:
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    def write() -> None:
        other = world.others.contact
        inbox.contact_message_send(contact=other, conversation=world.others, body="meu segredo")

    await database_sync_to_async(write)()

    assert await communicator.receive_nothing(timeout=0.5) is True
    await communicator.disconnect()


async def test_typing_is_relayed_to_the_staff_of_the_visitors_own_conversation(
    world: World,
) -> None:
    layer = get_channel_layer()
    staff = await layer.new_channel()
    await layer.group_add(f"queueing.conversation.{world.conversation.pk}", staff)
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    await communicator.send_json_to(
        {"action": "widget.typing", "conversation_id": world.conversation.pk}
    )
    relayed = await layer.receive(staff)
    # Key presses within the interval are not relayed again.
    await communicator.send_json_to(
        {"action": "widget.typing", "conversation_id": world.conversation.pk}
    )

    assert relayed == {
        "type": "realtime.event",
        "event": "inbox.typing",
        "data": {"conversation_id": world.conversation.pk, "contact": True},
    }
    assert await communicator.receive_nothing(timeout=0.3) is True
    await layer.group_discard(f"queueing.conversation.{world.conversation.pk}", staff)
    await communicator.disconnect()


async def test_typing_into_another_contacts_conversation_is_refused(world: World) -> None:
    layer = get_channel_layer()
    staff = await layer.new_channel()
    await layer.group_add(f"queueing.conversation.{world.others.pk}", staff)
    communicator, _, _ = await connect(key=world.widget.public_key, token=world.token)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "widget.typing", "conversation_id": world.others.pk})

    assert await communicator.receive_json_from() == {
        "type": "realtime.error",
        "data": {
            "code": "widget.typing_refused",
            "message": "Not your conversation.",
            "conversation_id": world.others.pk,
        },
    }
    await layer.group_send(
        f"queueing.conversation.{world.others.pk}", {"type": "marker", "data": 1}
    )
    # The only thing the staff group got is our own marker: no typing was relayed.
    assert (await layer.receive(staff))["type"] == "marker"
    await layer.group_discard(f"queueing.conversation.{world.others.pk}", staff)
    await communicator.disconnect()
