"""Messages from outside channels (WhatsApp through BotConversa) entering the inbox."""

from __future__ import annotations

import pytest

from chat.models import Message
from core.exceptions import ApplicationError
from queueing import external, inbox
from queueing.models import Contact, Conversation, ConversationChannel
from queueing.tests import inbox_factories as make

pytestmark = pytest.mark.django_db


def receive(org_id: int, queue_id: int, external_id: str, text: str = "Oi") -> tuple:
    return external.external_message_receive(
        organization_id=org_id,
        queue_id=queue_id,
        channel=ConversationChannel.WHATSAPP,
        phone="+5511999998888",
        name="Maria",
        text=text,
        external_id=external_id,
    )


def test_a_first_message_opens_a_whatsapp_conversation_in_the_chosen_queue() -> None:
    org = make.organization()
    make.queue(org, name="Geral", priority=10)
    whatsapp = make.queue(org, name="WhatsApp")

    conversation, message, created = receive(org.pk, whatsapp.pk, "m-1")

    assert created is True
    assert (conversation.channel, conversation.queue_id, conversation.status) == (
        "whatsapp",
        whatsapp.pk,
        "open",
    )
    assert list(Contact.objects.values_list("phone", "name")) == [("+5511999998888", "Maria")]
    assert (message.body, message.by_contact, message.room_id) == ("Oi", True, conversation.room_id)


def test_a_replay_changes_nothing_and_a_second_message_joins_the_conversation() -> None:
    org = make.organization()
    whatsapp = make.queue(org, name="WhatsApp")
    first, _, _ = receive(org.pk, whatsapp.pk, "m-1")

    again = receive(org.pk, whatsapp.pk, "m-1", text="different text, same id")
    second, message, created = receive(org.pk, whatsapp.pk, "m-2", text="Tudo bem?")

    assert (again[0].pk, again[2]) == (first.pk, False)
    assert (second.pk, created, message.body) == (first.pk, True, "Tudo bem?")
    assert Conversation.objects.count() == 1
    assert list(Message.objects.order_by("pk").values_list("body", flat=True)) == [
        "Oi",
        "Tudo bem?",
    ]


def test_a_queue_of_another_organization_is_refused_and_nothing_is_written() -> None:
    org, other = make.organization(), make.organization()
    make.queue(org)
    foreign = make.queue(other, name="Theirs")

    with pytest.raises(ApplicationError) as excinfo:
        receive(org.pk, foreign.pk, "m-1")

    assert (excinfo.value.status_code, excinfo.value.code) == (404, "inbox.not_found")
    assert (Contact.objects.count(), Conversation.objects.count()) == (0, 0)


def test_conversation_start_refuses_a_queue_of_another_organization() -> None:
    org, other = make.organization(), make.organization()
    make.queue(org)
    foreign = make.queue(other, name="Theirs")
    contact = Contact.objects.create(organization=org, name="Maria")

    with pytest.raises(ApplicationError) as excinfo:
        inbox.conversation_start(
            contact=contact,
            channel=ConversationChannel.WHATSAPP,
            department_id=None,
            body="Oi",
            queue=foreign,
        )

    assert (excinfo.value.status_code, excinfo.value.code) == (422, "inbox.invalid_queue")
    assert Conversation.objects.count() == 0
