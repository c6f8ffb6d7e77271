"""BotConversa sync: the inbound endpoint's effects on the inbox and the CRM, and the calls we
make to BotConversa (dispatches), against a local server that answers like BotConversa."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection as db_connection

from accounts.models import User
from accounts.roles import Role
from accounts.tests.helpers import assert_error, client_for, committed
from chat.models import Message, Notification
from core.crypto import decrypt, encrypt
from core.models import InboundWebhook
from crm import botconversa, tasks
from crm.deals import deal_move
from crm.models import (
    Activity,
    ActivityKind,
    BotConversaConnection,
    BotConversaDispatch,
    BotConversaRule,
    BotConversaRuleKind,
    BotConversaSubscriber,
    Contact,
    Deal,
    DispatchStatus,
    Lead,
    LeadStatus,
    SupportContactLink,
)
from crm.tests import factories as crm_make
from crm.tests.fake_botconversa import API_KEY, FakeBotConversa, fake_botconversa_fixture
from queueing import inbox
from queueing.models import Contact as SupportContact
from queueing.models import Conversation, ConversationChannel, ConversationStatus
from queueing.tests import inbox_factories as make

__all__ = ["fake_botconversa_fixture"]

pytestmark = pytest.mark.django_db

PHONE = "+5511999998888"


@pytest.fixture
def world(fake_botconversa: FakeBotConversa) -> dict[str, Any]:
    people = crm_make.team()
    org = people["org"]
    make.queue(org, name="Outra", priority=5)
    whatsapp = make.queue(org, name="WhatsApp")
    connection = BotConversaConnection.objects.create(
        organization=org,
        api_url=fake_botconversa.url,
        api_key_encrypted=encrypt(API_KEY),
        queue=whatsapp,
    )
    return {**people, "queue": whatsapp, "connection": connection, "fake": fake_botconversa}


def message_event(message_id: str = "wamid-1", text: str = "Olá, quero saber o preço") -> dict:
    return {
        "type": "message",
        "subscriber": {"id": "77", "phone": "11 99999-8888", "name": "Ana Souza"},
        "message": {"id": message_id, "text": text},
    }


def receive(world: dict[str, Any], payload: Any) -> dict[str, Any]:
    connection = world["connection"]
    with committed():
        return botconversa.inbound_handle(
            organization_id=connection.organization_id,
            token=connection.inbound_token,
            payload=payload,
        )


def inbound_url(world: dict[str, Any], token: str | None = None) -> str:
    connection = world["connection"]
    return (
        f"/webhooks/botconversa/{connection.organization_id}/{token or connection.inbound_token}/"
    )


# --- Inbound ---------------------------------------------------------------------------------


def test_a_message_opens_a_whatsapp_conversation_and_links_the_contact(world: dict) -> None:
    answer = receive(world, message_event())

    conversation = Conversation.objects.get()
    assert answer == {"ok": True, "conversation_id": conversation.pk}
    assert conversation.channel == ConversationChannel.WHATSAPP
    assert conversation.queue == world["queue"]
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.contact.phone == PHONE
    assert conversation.contact.name == "Ana Souza"
    assert list(
        Message.objects.filter(room=conversation.room).values_list("body", "by_contact")
    ) == [("Olá, quero saber o preço", True)]
    crm_contact = Contact.objects.get()
    assert (crm_contact.name, crm_contact.phone) == ("Ana Souza", PHONE)
    assert SupportContactLink.objects.get().contact == crm_contact
    subscriber = BotConversaSubscriber.objects.get()
    assert (subscriber.subscriber_id, subscriber.phone, subscriber.contact) == (
        "77",
        PHONE,
        crm_contact,
    )
    assert (
        InboundWebhook.objects.filter(
            provider=f"botconversa:{world['org'].pk}", event_id="message:wamid-1"
        ).count()
        == 1
    )


def test_a_replayed_message_changes_nothing(world: dict) -> None:
    first = receive(world, message_event())

    again = receive(world, message_event())

    assert again == first
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 1
    assert InboundWebhook.objects.count() == 1
    assert SupportContact.objects.count() == 1
    assert Contact.objects.count() == 1


def test_a_second_message_updates_the_same_conversation(world: dict) -> None:
    first = receive(world, message_event("wamid-1", "Olá"))

    second = receive(world, message_event("wamid-2", "Ainda aí?"))

    assert second == first
    conversation = Conversation.objects.get()
    assert list(
        Message.objects.filter(room=conversation.room).order_by("pk").values_list("body", flat=True)
    ) == ["Olá", "Ainda aí?"]


def test_a_status_resolves_and_reopens_the_conversation(world: dict) -> None:
    opened = receive(world, message_event())
    status_event = {"type": "status", "subscriber": {"phone": PHONE}, "status": "closed"}

    resolved = receive(world, {**status_event, "event_id": "s-1"})

    conversation = Conversation.objects.get()
    assert resolved == opened
    assert conversation.status == ConversationStatus.RESOLVED
    assert conversation.resolved_by is None

    receive(world, {**status_event, "status": "open", "event_id": "s-2"})

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.waiting_since is not None


def test_a_tag_moves_the_contacts_open_deal(world: dict) -> None:
    org = world["org"]
    pipeline = crm_make.pipeline(org)
    new, qualified = crm_make.stages(pipeline)[:2]
    contact = crm_make.contact(org, phone=PHONE)
    deal = crm_make.deals(new, 1, contact=contact)[0]
    crm_make.deals(qualified, 2)
    rule = BotConversaRule.objects.create(
        organization=org,
        kind=BotConversaRuleKind.TAG_MOVES_TO_STAGE,
        stage=qualified,
        tag_name="qualificado",
    )

    receive(world, {"type": "tag", "subscriber": {"phone": PHONE}, "tag": "Qualificado"})

    deal.refresh_from_db()
    assert deal.stage == qualified
    assert (
        list(qualified.deals.order_by("position", "pk").values_list("pk", flat=True))[-1] == deal.pk
    )
    activity = Activity.objects.get(kind=ActivityKind.BOTCONVERSA)
    assert (activity.deal_id, activity.contact_id) == (deal.pk, contact.pk)
    assert activity.data == {"tag": "Qualificado", "rule_id": rule.pk, "stage_id": qualified.pk}


def test_a_tag_converts_the_lead_with_that_phone(world: dict) -> None:
    org = world["org"]
    pipeline = crm_make.pipeline(org)
    qualified = crm_make.stages(pipeline)[1]
    lead = Lead.objects.create(organization=org, name="Bruno Lima", phone=PHONE)
    BotConversaRule.objects.create(
        organization=org,
        kind=BotConversaRuleKind.TAG_MOVES_TO_STAGE,
        stage=qualified,
        tag_name="qualificado",
    )

    receive(
        world,
        {"type": "tag", "subscriber": {"id": "77", "phone": PHONE}, "tag": "qualificado"},
    )

    lead.refresh_from_db()
    deal = Deal.objects.get()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_deal == deal
    assert deal.contact is not None
    assert (deal.stage, deal.title, deal.contact.phone) == (qualified, "Bruno Lima", PHONE)
    assert BotConversaSubscriber.objects.get().contact == deal.contact


def test_a_tag_without_rules_changes_nothing(world: dict) -> None:
    answer = receive(world, {"type": "tag", "subscriber": {"phone": PHONE}, "tag": "outra"})

    assert answer == {"ok": True, "conversation_id": None}
    assert Deal.objects.count() == 0
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    "token_kind", ["wrong", "other_org", "disabled"], ids=["wrong", "other-org", "disabled"]
)
def test_a_wrong_token_is_refused_and_nothing_is_written(world: dict, token_kind: str) -> None:
    connection = world["connection"]
    url = inbound_url(world, "not-the-token")
    if token_kind == "other_org":
        url = f"/webhooks/botconversa/{world['other_org'].pk}/{connection.inbound_token}/"
    if token_kind == "disabled":
        BotConversaConnection.objects.filter(pk=connection.pk).update(enabled=False)
        url = inbound_url(world)

    with committed():
        response = client_for(None).post(url, message_event(), format="json")

    assert_error(response, 403, "crm.botconversa_forbidden")
    assert Conversation.objects.count() == 0
    assert SupportContact.objects.count() == 0
    assert InboundWebhook.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (["not", "an", "object"], "body"),
        ({"type": "dance"}, "type"),
        ({"type": "message", "message": {"id": "1", "text": "x"}}, "subscriber"),
        ({**message_event(), "subscriber": {"phone": "12"}}, "subscriber.phone"),
        ({**message_event(), "message": {"text": "x"}}, "message.id"),
        ({**message_event(), "message": {"id": "1", "text": "  "}}, "message.text"),
        ({"type": "status", "subscriber": {"phone": PHONE}, "status": "maybe"}, "status"),
        ({"type": "tag", "subscriber": {"phone": PHONE}}, "tag"),
    ],
)
def test_a_malformed_payload_is_422_and_nothing_is_written(
    world: dict, payload: Any, field: str
) -> None:
    with committed():
        response = client_for(None).post(inbound_url(world), payload, format="json")

    assert_error(response, 422, "crm.botconversa_invalid_payload", {"field": field})
    assert Conversation.objects.count() == 0
    assert InboundWebhook.objects.count() == 0


def test_the_endpoint_answers_ok_with_the_conversation(world: dict) -> None:
    with committed():
        response = client_for(None).post(inbound_url(world), message_event(), format="json")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "conversation_id": Conversation.objects.get().pk}


# --- Outbound --------------------------------------------------------------------------------


def test_a_staff_reply_is_sent_to_botconversa(world: dict) -> None:
    world["fake"].add_subscriber(PHONE, 77)
    receive(world, message_event())
    conversation = Conversation.objects.get()

    with committed():
        message = inbox.staff_message_send(
            actor=world["admin"], conversation=conversation, body="Olá, Ana!"
        )

    dispatch = BotConversaDispatch.objects.get()
    assert (dispatch.action, dispatch.key, dispatch.status, dispatch.attempts) == (
        "send_message",
        f"message:{message.pk}",
        DispatchStatus.SENT,
        1,
    )
    assert world["fake"].calls() == [
        ("POST", "subscriber/77/send_message/", {"type": "text", "value": "Olá, Ana!"})
    ]


def test_a_reply_on_another_channel_is_not_sent(world: dict) -> None:
    conversation = make.conversation(world["queue"], who=make.contact(world["org"], phone=PHONE))

    with committed():
        inbox.staff_message_send(actor=world["admin"], conversation=conversation, body="Oi")

    assert BotConversaDispatch.objects.count() == 0
    assert world["fake"].requests == []


def test_a_stage_with_rules_adds_a_tag_and_starts_a_flow(world: dict) -> None:
    org = world["org"]
    pipeline = crm_make.pipeline(org)
    new, qualified = crm_make.stages(pipeline)[:2]
    contact = crm_make.contact(org, phone=PHONE)
    deal = crm_make.deals(new, 1, contact=contact)[0]
    tag_rule = BotConversaRule.objects.create(
        organization=org,
        kind=BotConversaRuleKind.STAGE_ADDS_TAG,
        stage=qualified,
        tag_name="qualificado",
    )
    flow_rule = BotConversaRule.objects.create(
        organization=org, kind=BotConversaRuleKind.STAGE_STARTS_FLOW, stage=qualified, flow_id="21"
    )

    with committed():
        moved = deal_move(
            actor=world["admin"], deal_id=deal.pk, organization_id=org.pk, stage_id=qualified.pk
        )

    assert set(BotConversaDispatch.objects.values_list("action", "key", "status")) == {
        ("add_tag", f"rule:{tag_rule.pk}:deal:{deal.pk}:v{moved.version}", DispatchStatus.SENT),
        ("send_flow", f"rule:{flow_rule.pk}:deal:{deal.pk}:v{moved.version}", DispatchStatus.SENT),
    }
    calls = world["fake"].calls()
    assert calls[:2] == [
        ("GET", "subscriber/get_by_phone/%2B5511999998888/", None),
        (
            "POST",
            "subscriber/",
            {
                "phone": PHONE,
                "first_name": "Ana",
                "last_name": "Souza",
                "has_opt_in_whatsapp": True,
            },
        ),
    ]
    assert sorted(calls[2:], key=str) == sorted(
        [
            ("GET", "tags/", None),
            ("POST", "subscriber/500/tags/12/", {}),
            ("POST", "subscriber/500/send_flow/", {"flow": 21}),
        ],
        key=str,
    )
    assert BotConversaSubscriber.objects.get().contact == contact


def failing_dispatch(world: dict) -> BotConversaDispatch:
    subscriber_contact = crm_make.contact(world["org"], phone=PHONE)
    BotConversaSubscriber.objects.create(
        organization=world["org"], contact=subscriber_contact, subscriber_id="77", phone=PHONE
    )
    world["fake"].add_subscriber(PHONE, 77)
    return BotConversaDispatch.objects.create(
        organization=world["org"],
        action="send_message",
        key="message:1",
        payload={"phone": PHONE, "name": "Ana", "text": "Olá"},
    )


def admin_notifications(user: User) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(user=user).values_list("kind", "source"))


def test_retries_are_bounded_then_the_dispatch_fails_and_admins_are_told(
    world: dict, settings: Any
) -> None:
    settings.BOTCONVERSA_MAX_ATTEMPTS = 3
    dispatch = failing_dispatch(world)
    world["fake"].answer_server_errors(10)

    for _attempt in range(2):
        with committed():
            tasks.botconversa_dispatch.delay(dispatch.pk)
        dispatch.refresh_from_db()
        assert dispatch.status == DispatchStatus.PENDING
        assert admin_notifications(world["admin"]) == []
    with committed():
        tasks.botconversa_dispatch.delay(dispatch.pk)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.FAILED, 3)
    assert "HTTP 500" in dispatch.last_error
    assert len(world["fake"].requests) == 3
    assert admin_notifications(world["admin"]) == [
        ("crm_sync_failed", f"bc_dispatch:{dispatch.pk}")
    ]
    assert admin_notifications(world["agent"]) == []


def test_an_unauthorized_key_fails_at_once(world: dict) -> None:
    dispatch = failing_dispatch(world)
    BotConversaConnection.objects.filter(pk=world["connection"].pk).update(
        api_key_encrypted=encrypt("revoked-key-0000")
    )

    with committed():
        tasks.botconversa_dispatch.delay(dispatch.pk)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.FAILED, 1)
    assert "HTTP 401" in dispatch.last_error
    assert admin_notifications(world["admin"]) == [
        ("crm_sync_failed", f"bc_dispatch:{dispatch.pk}")
    ]


def test_a_sent_dispatch_is_not_sent_again(world: dict) -> None:
    dispatch = failing_dispatch(world)
    with committed():
        tasks.botconversa_dispatch.delay(dispatch.pk)

    botconversa.dispatch_send(dispatch.pk)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == (DispatchStatus.SENT, 1)
    assert len(world["fake"].requests) == 1


def test_an_admin_retries_a_failed_dispatch(world: dict) -> None:
    dispatch = failing_dispatch(world)
    world["fake"].answer_unauthorized()
    with committed():
        tasks.botconversa_dispatch.delay(dispatch.pk)

    with committed():
        botconversa.dispatch_retry(actor=world["admin"], dispatch=dispatch)

    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts, dispatch.last_error) == (DispatchStatus.SENT, 1, "")


def test_stuck_dispatches_are_queued_again(world: dict) -> None:
    from datetime import timedelta

    from django.utils import timezone

    dispatch = failing_dispatch(world)

    assert botconversa.retry_stuck_dispatches() == 0
    with committed():
        queued = botconversa.retry_stuck_dispatches(now=timezone.now() + timedelta(minutes=3))

    dispatch.refresh_from_db()
    assert queued == 1
    assert dispatch.status == DispatchStatus.SENT


def test_the_key_is_encrypted_at_rest(world: dict) -> None:
    botconversa.connection_save(
        actor=world["admin"], organization_id=world["org"].pk, api_key="secret-key-9876"
    )

    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key_encrypted FROM crm_botconversaconnection WHERE id = %s",
            [world["connection"].pk],
        )
        (stored,) = cursor.fetchone()
    assert "secret-key-9876" not in stored
    assert decrypt(stored) == "secret-key-9876"


def test_an_organization_without_a_member_role_is_not_notified(world: dict) -> None:
    dispatch = failing_dispatch(world)
    viewer = world["viewer"]

    botconversa.dispatch_failed(dispatch.pk, "BotConversa failed (HTTP 500, send a message).")

    assert admin_notifications(viewer) == []
    assert admin_notifications(world["admin"]) == [
        ("crm_sync_failed", f"bc_dispatch:{dispatch.pk}")
    ]
    assert world["admin"].memberships.get().role == Role.ORG_ADMIN
