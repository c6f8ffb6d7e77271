"""The /ws/ socket end to end through the real ASGI application (origin check, auth, consumer)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import Membership, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, UserFactory
from config.asgi import application
from realtime import registry

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user: User | None = None, *, path: str = "/ws/", origin: bytes = ORIGIN[1]):
    headers = [(b"origin", origin)]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect()
    return communicator, connected, detail


@pytest.fixture
async def member() -> AsyncIterator[Membership]:
    membership = await database_sync_to_async(MembershipFactory)(role=Role.AGENT)
    yield membership


async def test_an_anonymous_handshake_is_refused_before_it_is_accepted() -> None:
    _, connected, code = await connect()

    assert (connected, code) == (False, 4401)


async def test_a_handshake_from_a_foreign_origin_is_refused(member: Membership) -> None:
    _, connected, _ = await connect(member.user, origin=b"https://evil.example")

    assert connected is False


async def test_a_signed_in_browser_connects_and_is_greeted(member: Membership) -> None:
    communicator, connected, _ = await connect(member.user)

    assert connected is True
    assert await communicator.receive_json_from() == {
        "type": "realtime.hello",
        "data": {"user_id": member.user_id},
    }
    await communicator.disconnect()


async def test_an_api_client_connects_with_its_access_token(member: Membership) -> None:
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(member.user)))()

    communicator, connected, _ = await connect(path=f"/ws/?token={token}")

    assert connected is True
    assert (await communicator.receive_json_from())["data"] == {"user_id": member.user_id}
    await communicator.disconnect()


async def test_a_bad_token_is_refused() -> None:
    _, connected, code = await connect(path="/ws/?token=not-a-jwt")

    assert (connected, code) == (False, 4401)


async def test_a_member_subscribes_and_receives_the_organization_events(
    member: Membership,
) -> None:
    admin = await database_sync_to_async(MembershipFactory)(
        organization=member.organization, role=Role.ORG_ADMIN
    )
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()
    topic = f"accounts.organization.{member.organization_id}"

    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    subscribed = await communicator.receive_json_from()
    await database_sync_to_async(services.membership_change_role)(
        membership=admin, role=Role.ORG_ADMIN
    )
    member_again = await database_sync_to_async(Membership.objects.get)(pk=member.pk)
    await database_sync_to_async(services.membership_change_role)(
        membership=member_again, role=Role.VIEWER
    )
    event = await communicator.receive_json_from()

    assert subscribed == {"type": "realtime.subscribed", "data": {"topic": topic}}
    assert event["type"] == "accounts.membership.updated"
    assert event["data"]["organization_id"] == member.organization_id
    assert event["data"]["membership"]["id"] == member.pk
    assert event["data"]["membership"]["role"] == "viewer"
    assert await communicator.receive_nothing() is True
    await communicator.disconnect()


@pytest.mark.parametrize(
    "topic",
    ["accounts.organization.{other}", "accounts.organization.999999", "nothing.here.1", "x", 42],
)
async def test_a_topic_it_may_not_follow_is_refused_with_the_same_answer(
    member: Membership, topic: Any
) -> None:
    other = await database_sync_to_async(MembershipFactory)()
    if isinstance(topic, str):
        topic = topic.format(other=other.organization_id)
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "subscribe", "topic": topic})

    assert await communicator.receive_json_from() == {
        "type": "realtime.error",
        "data": {
            "code": "realtime.topic_refused",
            "message": "You cannot follow this topic.",
            "topic": str(topic),
        },
    }
    await communicator.disconnect()


async def test_events_of_a_refused_topic_never_arrive(member: Membership) -> None:
    other = await database_sync_to_async(MembershipFactory)(role=Role.AGENT)
    await database_sync_to_async(MembershipFactory)(
        organization=other.organization, role=Role.ORG_ADMIN
    )
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()
    await communicator.send_json_to(
        {"action": "subscribe", "topic": f"accounts.organization.{other.organization_id}"}
    )
    await communicator.receive_json_from()

    await database_sync_to_async(services.membership_change_role)(
        membership=other, role=Role.VIEWER
    )

    assert await communicator.receive_nothing() is True
    await communicator.disconnect()


async def test_unsubscribing_stops_the_events(member: Membership) -> None:
    await database_sync_to_async(MembershipFactory)(
        organization=member.organization, role=Role.ORG_ADMIN
    )
    topic = f"accounts.organization.{member.organization_id}"
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "unsubscribe", "topic": topic})
    unsubscribed = await communicator.receive_json_from()
    await database_sync_to_async(services.membership_change_role)(
        membership=member, role=Role.VIEWER
    )

    assert unsubscribed == {"type": "realtime.unsubscribed", "data": {"topic": topic}}
    assert await communicator.receive_nothing() is True
    await communicator.disconnect()


async def test_a_removed_member_stops_receiving_the_organization_at_once(
    member: Membership,
) -> None:
    await database_sync_to_async(MembershipFactory)(
        organization=member.organization, role=Role.ORG_ADMIN
    )
    colleague = await database_sync_to_async(MembershipFactory)(organization=member.organization)
    topic = f"accounts.organization.{member.organization_id}"
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    await communicator.receive_json_from()

    await database_sync_to_async(services.membership_remove)(membership=member)
    frames = [await communicator.receive_json_from(), await communicator.receive_json_from()]
    await database_sync_to_async(services.membership_change_role)(
        membership=colleague, role=Role.VIEWER
    )

    assert sorted(frame["type"] for frame in frames) == [
        "accounts.membership.deleted",
        "realtime.unsubscribed",
    ]
    revoked = next(frame for frame in frames if frame["type"] == "realtime.unsubscribed")
    assert revoked["data"] == {"topic": topic, "reason": "revoked"}
    assert await communicator.receive_nothing() is True
    await communicator.disconnect()


async def test_ping_gets_a_pong_with_the_server_time(member: Membership) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "ping"})
    pong = await communicator.receive_json_from()

    assert pong["type"] == "realtime.pong"
    assert list(pong["data"]) == ["server_time"]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "realtime.bad_frame"),
        ("[1, 2]", "realtime.bad_frame"),
        ('"subscribe"', "realtime.bad_frame"),
        (json.dumps({"action": "dance"}), "realtime.unknown_action"),
        (json.dumps({"topic": "x"}), "realtime.unknown_action"),
        (json.dumps({"action": "ping", "pad": "x" * 20000}), "realtime.bad_frame"),
    ],
)
async def test_a_bad_frame_gets_a_typed_error_and_the_socket_stays_open(
    member: Membership, frame: str, code: str
) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_to(text_data=frame)
    error = await communicator.receive_json_from()
    await communicator.send_json_to({"action": "ping"})

    assert error["type"] == "realtime.error"
    assert error["data"]["code"] == code
    assert (await communicator.receive_json_from())["type"] == "realtime.pong"
    await communicator.disconnect()


async def test_a_binary_frame_is_a_bad_frame(member: Membership) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_to(bytes_data=b"\x00\x01")

    assert (await communicator.receive_json_from())["data"]["code"] == "realtime.bad_frame"
    await communicator.disconnect()


async def test_an_inactive_user_with_a_live_session_is_refused() -> None:
    user = await database_sync_to_async(UserFactory)()
    cookie = await database_sync_to_async(session_cookie)(user)
    await database_sync_to_async(User.objects.filter(pk=user.pk).update)(is_active=False)
    communicator = WebsocketCommunicator(application, "/ws/", headers=[ORIGIN, (b"cookie", cookie)])

    connected, code = await communicator.connect()

    assert (connected, code) == (False, 4401)


# --- socket hooks: connection listeners and registered actions ---------------------------------

connections_seen: list[tuple[str, int, str]] = []


def _opened(user_id: int, channel_name: str) -> None:
    connections_seen.append(("open", user_id, channel_name))


def _closed(user_id: int, channel_name: str) -> None:
    connections_seen.append(("close", user_id, channel_name))


async def _echo(context: registry.ActionContext, frame: dict[str, Any]) -> None:
    await context.reply(
        "tests.echoed",
        {"user_id": context.user.pk, "frame": frame, "topics": sorted(context.subscriptions)},
    )


def _count_users(context: registry.ActionContext, frame: dict[str, Any]) -> None:
    # A plain handler runs in a worker thread, where the ORM may be used.
    raise registry.ActionError("tests.counted", "Counted.", users=User.objects.count())


async def _explode(context: registry.ActionContext, frame: dict[str, Any]) -> None:
    raise RuntimeError("a bug in a handler")


registry.register_connection_listener(_opened, _closed)
registry.register_action("tests.echo", _echo)
registry.register_action("tests.count_users", _count_users)
registry.register_action("tests.explode", _explode)


async def test_connection_listeners_hear_a_socket_open_and_close(member: Membership) -> None:
    connections_seen.clear()
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.disconnect()

    assert [(kind, user_id) for kind, user_id, _ in connections_seen] == [
        ("open", member.user_id),
        ("close", member.user_id),
    ]
    assert connections_seen[0][2] == connections_seen[1][2] != ""


async def test_a_refused_handshake_is_never_announced_to_the_listeners() -> None:
    connections_seen.clear()

    await connect()

    assert connections_seen == []


async def test_a_registered_action_gets_the_socket_context_and_its_frame(
    member: Membership,
) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()
    topic = f"accounts.organization.{member.organization_id}"
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "tests.echo", "n": 1})

    assert await communicator.receive_json_from() == {
        "type": "tests.echoed",
        "data": {
            "user_id": member.user_id,
            "frame": {"action": "tests.echo", "n": 1},
            "topics": [topic],
        },
    }
    await communicator.disconnect()


async def test_a_plain_handler_runs_in_a_worker_thread_and_its_refusal_is_an_error_frame(
    member: Membership,
) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "tests.count_users"})

    assert await communicator.receive_json_from() == {
        "type": "realtime.error",
        "data": {"code": "tests.counted", "message": "Counted.", "users": 1},
    }
    await communicator.disconnect()


async def test_a_failing_handler_answers_an_error_and_the_socket_stays_open(
    member: Membership,
) -> None:
    communicator, _, _ = await connect(member.user)
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "tests.explode"})
    error = await communicator.receive_json_from()
    await communicator.send_json_to({"action": "ping"})

    assert error == {
        "type": "realtime.error",
        "data": {"code": "realtime.action_failed", "message": "The action failed."},
    }
    assert (await communicator.receive_json_from())["type"] == "realtime.pong"
    await communicator.disconnect()
