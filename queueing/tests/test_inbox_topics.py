"""The inbox's socket topics (tenants never see each other) and the staff typing relay."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.roles import Role
from config.asgi import application
from queueing.inbox_topics import (
    can_follow_conversation,
    can_follow_inbox,
    can_follow_supervisor,
)
from queueing.tests import inbox_factories as f

WAIT = 5


@pytest.mark.django_db
def test_topic_checks_follow_roles_and_never_cross_organizations() -> None:
    org = f.organization()
    other = f.organization()
    support_queue = f.queue(org)
    other_queue = f.queue(f.organization())
    admin = f.member(org, role=Role.ORG_ADMIN)
    agent = f.agent(org, support_queue)
    outside_queue = f.agent(org)
    viewer = f.member(org, role=Role.VIEWER)
    foreign_admin = f.member(other, role=Role.ORG_ADMIN)
    conversation = f.conversation(support_queue)
    foreign_conversation = f.conversation(other_queue)
    people = {
        "admin": admin,
        "agent": agent,
        "outside_queue": outside_queue,
        "viewer": viewer,
        "foreign_admin": foreign_admin,
    }

    def allowed(check: Any, key: str) -> list[str]:
        return [name for name, user in people.items() if check(user, key)]

    assert allowed(can_follow_inbox, str(org.pk)) == ["admin", "agent", "outside_queue", "viewer"]
    assert allowed(can_follow_supervisor, str(org.pk)) == ["admin"]
    assert allowed(can_follow_conversation, str(conversation.pk)) == ["admin", "agent", "viewer"]
    assert allowed(can_follow_conversation, str(foreign_conversation.pk)) == []
    assert allowed(can_follow_inbox, str(other.pk)) == ["foreign_admin"]
    assert allowed(can_follow_conversation, "999999") == []
    assert allowed(can_follow_inbox, "abc") == []


@pytest.mark.django_db
def test_an_agent_sees_a_conversation_of_another_queue_once_it_is_assigned_to_them() -> None:
    org = f.organization()
    agent = f.agent(org)
    conversation = f.conversation(f.queue(org), assignee=agent)

    assert can_follow_conversation(agent, str(conversation.pk)) is True


async def _connect(user: User) -> WebsocketCommunicator:
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
    communicator = WebsocketCommunicator(
        application, f"/ws/?token={token}", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    assert connected is True
    hello = await communicator.receive_json_from(timeout=WAIT)
    assert hello["type"] == "realtime.hello"
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, topic: str) -> dict[str, Any]:
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
    return frame


@pytest.mark.django_db(transaction=True)
async def test_staff_typing_reaches_colleagues_and_the_contact_but_a_note_only_colleagues() -> None:
    def build() -> tuple[Any, Any, Any]:
        org = f.organization()
        support_queue = f.queue(org)
        typist = f.agent(org, support_queue, display_name="Ana Souza")
        watcher = f.agent(org, support_queue)
        return typist, watcher, f.conversation(support_queue, assignee=typist)

    typist_user, watcher_user, conversation = await database_sync_to_async(build)()
    layer = get_channel_layer()
    widget_channel = await layer.new_channel()
    await layer.group_add(f"widget.contact.{conversation.contact_id}", widget_channel)
    typist, watcher = await _connect(typist_user), await _connect(watcher_user)
    topic = f"queueing.conversation.{conversation.pk}"
    await _subscribe(typist, topic)
    await _subscribe(watcher, topic)

    await typist.send_json_to({"action": "inbox.typing", "conversation_id": conversation.pk})
    relayed = await watcher.receive_json_from(timeout=WAIT)
    to_contact = await layer.receive(widget_channel)
    await typist.send_json_to(
        {"action": "inbox.typing", "conversation_id": conversation.pk, "note": True}
    )
    note_typing = await watcher.receive_json_from(timeout=WAIT)

    assert relayed == {
        "type": "inbox.typing",
        "data": {
            "conversation_id": conversation.pk,
            "user_id": typist_user.pk,
            "name": "Ana Souza",
            "note": False,
            "contact": False,
        },
    }
    assert (to_contact["event"], to_contact["data"]) == (
        "widget.typing",
        {"conversation_id": conversation.pk, "name": "Ana"},
    )
    assert note_typing["data"]["note"] is True
    assert await watcher.receive_nothing(timeout=0.3) is True
    await typist.disconnect()
    await watcher.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_typing_in_a_conversation_the_socket_does_not_follow_is_refused() -> None:
    def build() -> tuple[Any, Any]:
        org = f.organization()
        support_queue = f.queue(org)
        typist = f.agent(org, support_queue)
        return typist, f.conversation(support_queue, assignee=typist)

    typist_user, conversation = await database_sync_to_async(build)()
    typist = await _connect(typist_user)

    await typist.send_json_to({"action": "inbox.typing", "conversation_id": conversation.pk})
    error = await typist.receive_json_from(timeout=WAIT)

    assert (error["type"], error["data"]["code"]) == ("realtime.error", "inbox.typing_refused")
    await typist.disconnect()
