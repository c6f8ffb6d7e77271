"""WebRTC signaling over the real socket (config.asgi): who may relay what to whom."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from calls import socket, topics
from calls.models import Call, CallStatus
from calls.tests import factories
from calls.tests.media_helpers import make_call
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

# Work in a worker thread (the database) may take a moment on a busy machine.
WAIT = 5
# How long a socket listens to prove that nothing arrives.
QUIET = 0.3
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    # calls.apps registers these at start-up; registering again is a no-op, and keeps these
    # tests independent of the order the app's ready() is written in.
    topics.register()
    socket.register()
    yield


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


# The frames these tests are about; others (a professional's status, notifications) are
# skipped: presence sends them as sockets open.
WATCHED = ("calls.signal", "realtime.error", "realtime.subscribed")


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """The next frame of a watched type."""
    for _ in range(20):
        frame: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] in WATCHED:
            return frame
    raise AssertionError("no signaling frame")


async def heard(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Every watched frame that arrives before the socket has been quiet for QUIET seconds."""
    frames: list[dict[str, Any]] = []
    while not await communicator.receive_nothing(timeout=QUIET):
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] in WATCHED:
            frames.append(frame)
    return frames


async def subscribe(communicator: WebsocketCommunicator, topic: str) -> dict[str, Any]:
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    return await receive(communicator)


async def signal(
    communicator: WebsocketCommunicator, call: Any, kind: str = "offer", payload: Any = None
) -> None:
    await communicator.send_json_to(
        {
            "action": "call.signal",
            "call": call,
            "kind": kind,
            "payload": OFFER if payload is None else payload,
        }
    )


def signal_frame(call: Call, sender: User, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "calls.signal",
        "data": {"call_id": call.pk, "from": sender.pk, "kind": kind, "payload": payload},
    }


def refused(call_id: int | None, reason: str, message: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "calls.signal_refused",
        "message": message,
        "reason": reason,
    }
    if call_id is not None:
        data["call"] = call_id
    return {"type": "realtime.error", "data": data}


async def in_call(call: Call) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    """Both participants connected and following the call's topic."""
    client = await connect(call.client)
    professional = await connect(call.professional)
    topic = topics.call_topic(call.pk)
    assert await subscribe(client, topic) == {
        "type": "realtime.subscribed",
        "data": {"topic": topic},
    }
    assert await subscribe(professional, topic) == {
        "type": "realtime.subscribed",
        "data": {"topic": topic},
    }
    return client, professional


async def close(*communicators: WebsocketCommunicator) -> None:
    for communicator in communicators:
        await communicator.disconnect()


async def new_call(status: str = CallStatus.ACCEPTED) -> Call:
    def build() -> Call:
        call = make_call(status)
        return Call.objects.select_related("client", "professional").get(pk=call.pk)

    return await database_sync_to_async(build)()


async def set_status(call: Call, status: str) -> None:
    await database_sync_to_async(Call.objects.filter(pk=call.pk).update)(status=status)


async def test_the_two_participants_relay_offer_answer_and_ice_to_each_other() -> None:
    call = await new_call(CallStatus.ACCEPTED)
    client, professional = await in_call(call)
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    candidate = {"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 54400 typ host", "sdpMid": "0"}

    await signal(client, call.pk, "offer", OFFER)
    assert await receive(professional) == signal_frame(call, call.client, "offer", OFFER)
    await signal(professional, call.pk, "answer", answer)
    await signal(professional, call.pk, "ice", candidate)

    assert await receive(client) == signal_frame(
        call, call.client, "offer", OFFER
    )  # its own offer comes back through the group: clients skip frames from themselves
    assert await receive(client) == signal_frame(call, call.professional, "answer", answer)
    assert await receive(client) == signal_frame(call, call.professional, "ice", candidate)
    await close(client, professional)


async def test_a_ringing_and_an_active_call_take_every_signal_kind() -> None:
    for status in (CallStatus.RINGING, CallStatus.ACTIVE):
        call = await new_call(status)
        client, professional = await in_call(call)

        for kind in ("offer", "answer", "ice", "key", "restart", "bye"):
            await signal(client, call.pk, kind, {"n": kind})
            assert await receive(professional) == signal_frame(call, call.client, kind, {"n": kind})
        await close(client, professional)


async def test_an_outsider_can_neither_follow_nor_signal_into_a_call() -> None:
    call = await new_call(CallStatus.ACTIVE)
    client, professional = await in_call(call)
    outsider_user = await database_sync_to_async(factories.verified_user)()
    outsider = await connect(outsider_user)
    topic = topics.call_topic(call.pk)

    assert await subscribe(outsider, topic) == {
        "type": "realtime.error",
        "data": {
            "code": "realtime.topic_refused",
            "message": "You cannot follow this topic.",
            "topic": topic,
        },
    }
    await signal(outsider, call.pk)

    assert await receive(outsider) == refused(
        call.pk, "not_subscribed", "Follow the call before signaling in it."
    )
    assert await heard(client) == []
    assert await heard(professional) == []
    await close(client, professional, outsider)


async def test_a_participant_whose_socket_did_not_subscribe_is_refused() -> None:
    call = await new_call(CallStatus.ACCEPTED)
    client = await connect(call.client)
    professional = await connect(call.professional)
    await subscribe(professional, topics.call_topic(call.pk))

    await signal(client, call.pk)

    assert await receive(client) == refused(
        call.pk, "not_subscribed", "Follow the call before signaling in it."
    )
    assert await heard(professional) == []
    await close(client, professional)


async def test_a_participant_of_a_call_that_ended_is_refused_and_nobody_hears_it() -> None:
    call = await new_call(CallStatus.ACTIVE)
    client, professional = await in_call(call)
    await set_status(call, CallStatus.ENDED)

    await signal(client, call.pk, "bye", {})

    assert await receive(client) == refused(
        call.pk, "not_allowed", "This call does not take signals."
    )
    assert await heard(professional) == []
    await close(client, professional)


async def test_an_ended_call_cannot_be_followed() -> None:
    call = await new_call(CallStatus.ENDED)
    client = await connect(call.client)
    topic = topics.call_topic(call.pk)

    frame = await subscribe(client, topic)

    assert frame["type"] == "realtime.error"
    assert frame["data"]["code"] == "realtime.topic_refused"
    await close(client)


async def test_signaling_stops_once_the_cached_permission_expires_after_the_call_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = await new_call(CallStatus.ACTIVE)
    client, professional = await in_call(call)
    await signal(client, call.pk, "ice", {"n": 1})
    assert await receive(professional) == signal_frame(call, call.client, "ice", {"n": 1})
    await receive(client)  # its own
    await set_status(call, CallStatus.ENDED)
    # What PERMISSION_CACHE_SECONDS later looks like, without sleeping three seconds.
    monkeypatch.setattr(socket, "PERMISSION_CACHE_SECONDS", 0.0)

    await signal(client, call.pk, "ice", {"n": 2})

    assert await receive(client) == refused(
        call.pk, "not_allowed", "This call does not take signals."
    )
    assert await heard(professional) == []
    await close(client, professional)


async def test_a_burst_of_candidates_asks_the_database_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = await new_call(CallStatus.ACCEPTED)
    client, professional = await in_call(call)
    checks: list[tuple[int, int]] = []
    original = socket._participant_of_signaling_call

    def counted(user_id: int, call_id: int) -> bool:
        checks.append((user_id, call_id))
        return original(user_id, call_id)

    monkeypatch.setattr(socket, "_participant_of_signaling_call", counted)

    for number in range(20):
        await signal(client, call.pk, "ice", {"n": number})
    received = [await receive(professional) for _ in range(20)]

    assert received == [
        signal_frame(call, call.client, "ice", {"n": number}) for number in range(20)
    ]
    assert checks == [(call.client.pk, call.pk)]
    await close(client, professional)


@pytest.mark.parametrize(
    ("frame", "reason", "message", "names_call"),
    [
        (
            {"call": "1", "kind": "offer", "payload": {}},
            "bad_frame",
            "A signal names a call id.",
            False,
        ),
        (
            {"call": True, "kind": "offer", "payload": {}},
            "bad_frame",
            "A signal names a call id.",
            False,
        ),
        (
            {"call": None, "kind": "offer", "payload": {}},
            "bad_frame",
            "A signal names a call id.",
            False,
        ),
        ({"kind": "chat", "payload": {}}, "bad_frame", "Unknown signal kind.", True),
        (
            {"kind": "offer", "payload": "sdp"},
            "bad_frame",
            "A signal's payload is a JSON object.",
            True,
        ),
        ({"kind": "offer"}, "bad_frame", "A signal's payload is a JSON object.", True),
        # 9,000 characters in the frame, 18,000 bytes of UTF-8.
        (
            {"kind": "offer", "payload": {"sdp": "é" * 9000}},
            "too_large",
            "A signal's payload is at most 16 KiB.",
            True,
        ),
    ],
)
async def test_a_malformed_signal_is_refused_and_relays_nothing(
    frame: dict[str, Any], reason: str, message: str, names_call: bool
) -> None:
    call = await new_call(CallStatus.ACCEPTED)
    client, professional = await in_call(call)
    sent = {"action": "call.signal", "call": call.pk, **frame}

    # As a browser sends it: UTF-8 text, not \u escapes.
    await client.send_to(text_data=json.dumps(sent, ensure_ascii=False))

    assert await receive(client) == refused(call.pk if names_call else None, reason, message)
    assert await heard(professional) == []
    await close(client, professional)


async def test_a_socket_over_its_rate_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "SIGNAL_BURST", 3)
    call = await new_call(CallStatus.ACCEPTED)
    client, professional = await in_call(call)

    for number in range(4):
        await signal(client, call.pk, "ice", {"n": number})

    for number in range(3):
        assert await receive(professional) == signal_frame(call, call.client, "ice", {"n": number})
    assert await heard(professional) == []
    # The refusal is written to the socket at once, the echoes come through the group: their
    # order is not fixed.
    frames = [await receive(client) for _ in range(4)]
    assert [frame for frame in frames if frame["type"] == "realtime.error"] == [
        refused(call.pk, "rate_limited", "Too many signals; slow down.")
    ]
    assert [frame for frame in frames if frame["type"] == "calls.signal"] == [
        signal_frame(call, call.client, "ice", {"n": number}) for number in range(3)
    ]
    assert await heard(client) == []
    await close(client, professional)


async def test_a_signal_for_another_call_than_the_one_followed_is_refused() -> None:
    call = await new_call(CallStatus.ACCEPTED)
    other = await new_call(CallStatus.ACCEPTED)
    client, professional = await in_call(call)
    other_client, other_professional = await in_call(other)

    await signal(client, other.pk)

    assert await receive(client) == refused(
        other.pk, "not_subscribed", "Follow the call before signaling in it."
    )
    for communicator in (professional, other_client, other_professional):
        assert await heard(communicator) == []
    await close(client, professional, other_client, other_professional)


async def test_any_signed_in_user_may_follow_the_catalog() -> None:
    user = await database_sync_to_async(factories.verified_user)()
    communicator = await connect(user)

    assert await subscribe(communicator, "calls.catalog.all") == {
        "type": "realtime.subscribed",
        "data": {"topic": "calls.catalog.all"},
    }
    assert (await subscribe(communicator, "calls.catalog.other"))["type"] == "realtime.error"
    await close(communicator)
