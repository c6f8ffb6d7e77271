"""Starting conversations, the contact's messages, staff replies and internal notes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from accounts.roles import Role
from chat.models import Message, MessageKind, Notification, NotificationKind
from chat.support import NoteForContactError, support_message_data
from core.exceptions import ApplicationError
from queueing import inbox
from queueing.inbox_selectors import conversation_messages
from queueing.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    SlaStatus,
)
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> Any:
    """These tests read notification titles and system notes in English: everyone here
    speaks it (users default to Portuguese, whose catalog translates them)."""
    make_member = f.member
    monkeypatch.setattr(
        f, "member", lambda org, **fields: make_member(org, **{"language": "en", **fields})
    )
    with translation.override("en"):
        yield


@pytest.fixture
def published_many(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Records the batched sends (``publish_many_on_commit``) as ``published`` records sends."""
    from realtime import publish

    sent: list[tuple[str, dict[str, Any]]] = []

    def spy(messages: list[tuple[str, dict[str, Any]]]) -> None:
        sent.extend((group, {**message, "text": None}) for group, message in messages)

    monkeypatch.setattr(publish, "_send_many", spy)
    return sent


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _events(published: list[tuple[str, dict[str, Any]]], prefix: str) -> list[tuple[str, str]]:
    return [(group, message["event"]) for group, message in published if group.startswith(prefix)]


def _manual_setup() -> tuple[Any, Any, Any]:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual", first_response_minutes=30)
    agent = f.agent(org, support_queue, display_name="Ana Souza")
    return org, support_queue, agent


def test_it_starts_a_waiting_conversation_with_its_first_message(
    django_capture_on_commit_callbacks: Any, published: list[Any], published_many: list[Any]
) -> None:
    org, support_queue, agent = _manual_setup()
    who = f.contact(org, name="Maria")

    with django_capture_on_commit_callbacks(execute=True):
        conversation, created = inbox.conversation_start(
            contact=who, channel="widget", department_id=None, body="Olá!", client_id="c1"
        )

    assert created is True
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.queue_id == support_queue.pk
    assert conversation.assignee_id is None
    assert conversation.waiting_since is not None
    assert conversation.first_response_status == SlaStatus.ACTIVE
    assert conversation.first_response_due_at is not None
    messages = list(
        Message.objects.filter(room_id=conversation.room_id).values_list(
            "body", "by_contact", "kind", "author_id", "client_id"
        )
    )
    assert messages == [("Olá!", True, MessageKind.TEXT, None, "c1")]
    assert list(ConversationEvent.objects.values_list("kind", "data")) == [
        (
            ConversationEventKind.CREATED,
            {"channel": "widget", "queue_id": support_queue.pk, "offline": False},
        )
    ]
    assert list(Notification.objects.values_list("user_id", "kind", "source", "title")) == [
        (
            agent.pk,
            NotificationKind.SUPPORT_CONVERSATION,
            f"conversation:{conversation.pk}",
            "New conversation from Maria",
        )
    ]
    assert ("queueing.inbox." + str(org.pk), "inbox.conversation.created") in _events(
        published, "queueing.inbox"
    )
    assert [(group, message["event"], message["data"]) for group, message in published_many] == [
        (
            f"widget.contact.{who.pk}",
            "widget.queue.position",
            {"conversation_id": conversation.pk, "position": 1, "estimated_wait_seconds": None},
        )
    ]


def test_a_second_start_posts_into_the_open_conversation_and_a_retry_changes_nothing() -> None:
    org, _queue, _agent = _manual_setup()
    who = f.contact(org)
    first, _ = inbox.conversation_start(
        contact=who, channel="widget", department_id=None, body="one", client_id="a"
    )

    again, created = inbox.conversation_start(
        contact=who, channel="widget", department_id=None, body="two", client_id="b"
    )
    retried, retried_created = inbox.conversation_start(
        contact=who, channel="widget", department_id=None, body="two", client_id="b"
    )

    assert (again.pk, created) == (first.pk, False)
    assert (retried.pk, retried_created) == (first.pk, False)
    assert Conversation.objects.count() == 1
    assert list(
        Message.objects.filter(room_id=first.room_id).order_by("pk").values_list("body", flat=True)
    ) == ["one", "two"]


def test_it_refuses_an_unknown_department_and_creates_nothing() -> None:
    org, _queue, _agent = _manual_setup()
    other = f.organization()
    foreign = f.department(other, name="Outra")
    who = f.contact(org)

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_start(contact=who, channel="widget", department_id=foreign.pk, body="x")

    assert refused.value.code == "widget.invalid_department"
    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0


def test_contact_message_reopens_a_pending_conversation_and_notifies_the_assignee() -> None:
    org, support_queue, agent = _manual_setup()
    who = f.contact(org, name="Maria")
    conversation = f.conversation(
        support_queue, who=who, assignee=agent, status=ConversationStatus.PENDING
    )

    message = inbox.contact_message_send(
        contact=who, conversation=conversation, body="still there?", client_id="k"
    )
    retried = inbox.contact_message_send(
        contact=who, conversation=conversation, body="still there?", client_id="k"
    )

    conversation.refresh_from_db()
    assert retried.pk == message.pk
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.waiting_since is None
    assert conversation.last_contact_message_at == message.created_at
    assert list(Notification.objects.values_list("user_id", "source", "title")) == [
        (agent.pk, f"support_message:{message.pk}", "New message from Maria")
    ]


def test_contact_message_is_refused_on_someone_elses_or_a_resolved_conversation() -> None:
    org, support_queue, _agent = _manual_setup()
    who = f.contact(org)
    stranger = f.contact(org, email="other@example.com")
    conversation = f.conversation(support_queue, who=who)
    resolved = f.conversation(
        support_queue, who=who, status=ConversationStatus.RESOLVED, channel="in_app"
    )

    with pytest.raises(ApplicationError) as not_theirs:
        inbox.contact_message_send(contact=stranger, conversation=conversation, body="hi")
    with pytest.raises(ApplicationError) as ended:
        inbox.contact_message_send(contact=who, conversation=resolved, body="hi")

    assert (not_theirs.value.code, not_theirs.value.status_code) == ("widget.not_found", 404)
    assert (ended.value.code, ended.value.status_code) == ("widget.conversation_resolved", 409)
    assert Message.objects.count() == 0


def test_a_note_reaches_staff_only_and_never_a_contact_facing_payload(
    django_capture_on_commit_callbacks: Any, published: list[Any]
) -> None:
    org, support_queue, agent = _manual_setup()
    who = f.contact(org, name="Maria", email="maria@example.com")
    conversation = f.conversation(support_queue, who=who, assignee=agent)
    inbox.contact_message_send(contact=who, conversation=conversation, body="Oi")
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        note = inbox.staff_message_send(
            actor=agent, conversation=conversation, body="VIP customer", note=True
        )
        reply = inbox.staff_message_send(actor=agent, conversation=conversation, body="Olá Maria")

    widget_payloads = [message for group, message in published if group.startswith("widget.")]
    assert [item["event"] for item in widget_payloads] == [
        "widget.conversation.updated",
        "widget.message.created",
        "widget.conversation.updated",
    ]
    assert "VIP customer" not in repr(widget_payloads)
    assert widget_payloads[1]["data"] == {
        "conversation_id": conversation.pk,
        "message": {
            "id": reply.pk,
            "conversation_id": conversation.pk,
            "kind": "text",
            "body": "Olá Maria",
            "html": "Olá Maria",
            "by_contact": False,
            "author": {"id": agent.pk, "name": "Ana", "avatar_url": None},
            "attachments": [],
            "created_at": _json(reply.created_at),
            "client_id": None,
        },
    }
    staff = [
        message["data"]["message"]["id"]
        for group, message in published
        if group == f"queueing.conversation.{conversation.pk}"
        and message["event"] == "inbox.message.created"
    ]
    assert staff == [note.pk, reply.pk]
    contact_view = conversation_messages(conversation=conversation, for_contact=True)
    assert [item.body for item in contact_view] == ["Oi", "Olá Maria"]
    staff_view = conversation_messages(conversation=conversation, for_contact=False)
    assert [item.body for item in staff_view] == ["Oi", "VIP customer", "Olá Maria"]
    with pytest.raises(NoteForContactError):
        support_message_data(note, for_contact=True)

    with django_capture_on_commit_callbacks(execute=True):
        inbox.transcript_send(contact=who, conversation=conversation)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maria@example.com"]
    assert "VIP customer" not in mail.outbox[0].body
    assert "Olá Maria" in mail.outbox[0].body
    assert "VIP customer" not in str(mail.outbox[0].alternatives[0][0])


def test_a_reply_starts_the_first_response_clock_and_clears_the_requeue_deadline() -> None:
    _org, support_queue, agent = _manual_setup()
    conversation = f.conversation(
        support_queue,
        assignee=agent,
        requeue_due_at=f.at(60),
        first_response_status=SlaStatus.ACTIVE,
        first_response_due_at=f.at(3600),
    )

    reply = inbox.staff_message_send(actor=agent, conversation=conversation, body="Hi")

    conversation.refresh_from_db()
    assert conversation.requeue_due_at is None
    assert conversation.first_response_at == reply.created_at
    assert conversation.first_response_status in (SlaStatus.MET, SlaStatus.BREACHED)


def test_replies_are_for_the_assignee_or_an_admin_and_notes_for_non_viewers() -> None:
    org, support_queue, agent = _manual_setup()
    colleague = f.agent(org, support_queue)
    viewer = f.member(org, role=Role.VIEWER)
    admin = f.member(org, role=Role.ORG_ADMIN)
    outsider = f.agent(f.organization())
    conversation = f.conversation(support_queue, assignee=agent)

    def code(actor: Any, note: bool) -> str:
        try:
            inbox.staff_message_send(actor=actor, conversation=conversation, body="x", note=note)
        except ApplicationError as exc:
            return exc.code
        return "ok"

    assert [code(colleague, False), code(colleague, True)] == ["inbox.permission_denied", "ok"]
    assert [code(viewer, False), code(viewer, True)] == ["inbox.permission_denied"] * 2
    assert [code(outsider, False), code(outsider, True)] == ["inbox.not_found"] * 2
    assert [code(admin, False), code(admin, True)] == ["ok", "ok"]
    assert Message.objects.count() == 3


def test_note_mentions_notify_agents_who_see_it_and_refuse_others() -> None:
    org, support_queue, agent = _manual_setup()
    colleague = f.agent(org, support_queue)
    elsewhere = f.agent(org, f.queue(org, name="Outra"))
    conversation = f.conversation(support_queue, assignee=agent)

    with pytest.raises(ApplicationError) as refused:
        inbox.staff_message_send(
            actor=agent,
            conversation=conversation,
            body=f"<@{elsewhere.pk}> look",
            note=True,
        )
    note = inbox.staff_message_send(
        actor=agent, conversation=conversation, body=f"<@{colleague.pk}> look", note=True
    )

    assert (refused.value.code, refused.value.extra) == (
        "inbox.mention_not_allowed",
        {"user_ids": [elsewhere.pk]},
    )
    assert list(note.mentions.values_list("user_id", flat=True)) == [colleague.pk]
    assert list(Notification.objects.values_list("user_id", "kind", "source")) == [
        (colleague.pk, NotificationKind.SUPPORT_MENTION, f"support_mention:{note.pk}")
    ]
    assert Message.objects.count() == 1
