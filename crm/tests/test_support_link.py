"""Support conversations and CRM contacts: linking, the inbox panel, one-click deals and
re-linking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from accounts.roles import Role
from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from crm import support_link
from crm.board import card_by_id
from crm.contact_selectors import contact_data
from crm.models import Activity, ActivityKind, Contact, Deal, SupportContactLink
from crm.tests import factories as make
from queueing import inbox
from queueing.models import ConversationChannel
from queueing.tests import inbox_factories as inbox_make


def inbox_world() -> dict[str, Any]:
    org = inbox_make.organization(name="Escola")
    support_queue = inbox_make.queue(org, strategy="manual")
    other_queue = inbox_make.queue(org, name="Financeiro", strategy="manual")
    return {
        "org": org,
        "queue": support_queue,
        "other_queue": other_queue,
        "admin": inbox_make.agent(org, role=Role.ORG_ADMIN, display_name="Ana Admin"),
        "agent": inbox_make.agent(org, support_queue, display_name="Bruno Agente"),
        "outside_agent": inbox_make.agent(org, other_queue, display_name="Carla Fora"),
        "pipeline": make.pipeline(org),
    }


def start(who: Any, channel: str = "widget", subject: str = "") -> Any:
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation, _created = inbox.conversation_start(
            contact=who, channel=channel, department_id=None, body="Olá!", subject=subject
        )
    return conversation


@pytest.mark.django_db
def test_a_conversation_started_in_the_inbox_gets_a_new_crm_contact() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")

    conversation = start(who)

    contact = Contact.objects.get()
    assert (contact.organization_id, contact.name, contact.email, contact.source) == (
        w["org"].pk,
        "Maria",
        "maria@example.com",
        "support",
    )
    assert list(SupportContactLink.objects.values_list("contact_id", "support_contact_id")) == [
        (contact.pk, who.pk)
    ]
    assert list(
        Activity.objects.order_by("pk").values_list("kind", "contact_id", "conversation_id", "data")
    ) == [
        (ActivityKind.CREATED, contact.pk, None, {"support_contact_id": who.pk}),
        (ActivityKind.CONVERSATION, contact.pk, conversation.pk, {"event": "started"}),
    ]


@pytest.mark.django_db
def test_a_conversation_links_to_the_crm_contact_with_the_same_email() -> None:
    w = inbox_world()
    existing = make.contact(w["org"], "Maria Silva", email="Maria@Example.com")
    make.contact(w["org"], "Someone else", email="other@example.com")
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")

    start(who)

    assert Contact.objects.count() == 2
    assert SupportContactLink.objects.get().contact_id == existing.pk


@pytest.mark.django_db
def test_a_whatsapp_contact_links_by_phone_or_is_created_as_whatsapp() -> None:
    w = inbox_world()
    existing = make.contact(w["org"], "Pedro", phone="+5511999998888")
    known = inbox_make.contact(w["org"], name="P", email="", phone="+5511999998888")
    unknown = inbox_make.contact(w["org"], name="", email="", phone="+5521988887777")

    start(known, channel=ConversationChannel.WHATSAPP)
    start(unknown, channel=ConversationChannel.WHATSAPP)

    created = Contact.objects.exclude(pk=existing.pk).get()
    assert (created.name, created.phone, created.source) == (
        "+5521988887777",
        "+5521988887777",
        "whatsapp",
    )
    assert dict(SupportContactLink.objects.values_list("support_contact_id", "contact_id")) == {
        known.pk: existing.pk,
        unknown.pk: created.pk,
    }


@pytest.mark.django_db
def test_a_signed_in_student_links_by_account_first() -> None:
    w = inbox_world()
    student = make.member(w["org"], role=Role.VIEWER, email="aluno@example.com")
    by_account = make.contact(w["org"], "Aluno", user=student)
    make.contact(w["org"], "Same email", email="aluno@example.com")
    who = inbox_make.contact(w["org"], name="Aluno", email="aluno@example.com", user=student)

    assert support_link.contact_for_support_contact(who) == by_account
    assert support_link.contact_for_support_contact(who) == by_account
    assert SupportContactLink.objects.count() == 1


@pytest.mark.django_db
def test_without_create_an_unknown_contact_is_left_alone() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")

    assert support_link.contact_for_support_contact(who, create=False) is None
    assert (rows(Contact), rows(SupportContactLink)) == ([], [])


@pytest.mark.django_db
def test_the_panel_shows_the_contact_its_visible_deals_and_visible_conversations() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")
    first = start(who, subject="Boleto")
    contact = Contact.objects.get()
    second = inbox_make.conversation(
        w["other_queue"], who=who, subject="Matrícula", channel=ConversationChannel.IN_APP
    )
    stage = make.stages(w["pipeline"])[0]
    (deal,) = make.deals(stage, 1)
    Deal.objects.filter(pk=deal.pk).update(contact=contact)
    hidden_pipeline = make.pipeline(w["org"], "Secret", restricted=True)
    (hidden,) = make.deals(make.stages(hidden_pipeline)[0], 1)
    Deal.objects.filter(pk=hidden.pk).update(contact=contact)
    contact = Contact.objects.get()

    panel = support_link.conversation_panel(user=w["agent"], conversation=first)
    admin_panel = support_link.conversation_panel(user=w["admin"], conversation=first)

    first.refresh_from_db()
    assert panel == {
        "contact": contact_data(contact),
        "deals": [card_by_id(deal.pk)],
        "conversations": [
            {
                "id": first.pk,
                "subject": "Boleto",
                "channel": "widget",
                "status": "open",
                "last_message_at": panel["conversations"][0]["last_message_at"],
            }
        ],
    }
    assert panel["conversations"][0]["last_message_at"] is not None
    assert [item["id"] for item in admin_panel["deals"]] == sorted(
        [deal.pk, hidden.pk], reverse=True
    )
    assert [item["id"] for item in admin_panel["conversations"]] == [first.pk, second.pk]


@pytest.mark.django_db
def test_one_click_makes_a_deal_for_the_conversation_contact() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")
    conversation = start(who, subject="Boleto")
    contact = Contact.objects.get()

    deal = support_link.deal_from_conversation(
        actor=w["agent"], conversation=conversation, pipeline_id=w["pipeline"].pk
    )

    assert (deal.title, deal.contact_id, deal.owner_id, deal.value) == (
        "Maria — Boleto",
        contact.pk,
        w["agent"].pk,
        0,
    )
    assert list(
        Activity.objects.filter(conversation=conversation)
        .order_by("pk")
        .values_list("kind", "deal_id", "contact_id", "actor_id", "data")
    ) == [
        (ActivityKind.CONVERSATION, None, contact.pk, None, {"event": "started"}),
        (
            ActivityKind.CONVERSATION,
            deal.pk,
            None,
            w["agent"].pk,
            {"event": "deal_created", "contact_id": contact.pk},
        ),
        (
            ActivityKind.CONVERSATION,
            None,
            contact.pk,
            w["agent"].pk,
            {"event": "deal_created", "deal_id": deal.pk},
        ),
    ]


@pytest.mark.django_db
def test_one_click_titles_by_channel_without_a_subject_and_takes_a_title() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")
    conversation = start(who)

    with translation.override("en"):
        default = support_link.deal_from_conversation(
            actor=w["agent"], conversation=conversation, pipeline_id=w["pipeline"].pk
        )
    chosen = support_link.deal_from_conversation(
        actor=w["agent"],
        conversation=conversation,
        pipeline_id=w["pipeline"].pk,
        title="Curso anual",
        value=99000,
    )

    assert default.title == "Maria — Website widget"
    assert (chosen.title, chosen.value) == ("Curso anual", 99000)


@pytest.mark.django_db
def test_one_click_in_a_hidden_pipeline_is_not_found_and_makes_nothing() -> None:
    w = inbox_world()
    conversation = start(inbox_make.contact(w["org"]))
    hidden = make.pipeline(w["org"], "Secret", restricted=True)

    with pytest.raises(ApplicationError) as excinfo:
        support_link.deal_from_conversation(
            actor=w["agent"], conversation=conversation, pipeline_id=hidden.pk
        )
    assert (excinfo.value.status_code, excinfo.value.code) == (404, "crm.not_found")
    assert rows(Deal) == []


@pytest.mark.django_db
def test_relinking_points_the_conversation_to_another_contact() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"], name="Maria", email="maria@example.com")
    conversation = start(who)
    first = Contact.objects.get()
    other = make.contact(w["org"], "Maria Souza")

    support_link.contact_relink(actor=w["agent"], conversation=conversation, contact_id=other.pk)
    support_link.contact_relink(actor=w["agent"], conversation=conversation, contact_id=other.pk)

    assert SupportContactLink.objects.get().contact_id == other.pk
    assert list(other.activities.values_list("kind", "actor_id", "conversation_id", "data")) == [
        (
            ActivityKind.CONVERSATION,
            w["agent"].pk,
            conversation.pk,
            {"event": "linked", "previous_contact_id": first.pk},
        )
    ]


@pytest.mark.django_db
def test_relinking_to_a_contact_of_another_organization_is_refused() -> None:
    w = inbox_world()
    who = inbox_make.contact(w["org"])
    conversation = start(who)
    foreign = make.contact(make.organization(), "Foreign")
    link_before = rows(SupportContactLink)

    with pytest.raises(ApplicationError) as excinfo:
        support_link.contact_relink(
            actor=w["agent"], conversation=conversation, contact_id=foreign.pk
        )
    assert (excinfo.value.status_code, excinfo.value.code, excinfo.value.extra) == (
        422,
        "crm.invalid_reference",
        {"field": "contact_id"},
    )
    assert rows(SupportContactLink) == link_before


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


def run_together(works: list[Callable[[], Any]]) -> list[Any]:
    """Start every work at the same moment, each on its own connection; their results."""
    barrier = threading.Barrier(len(works))
    outcomes: list[Any] = [None] * len(works)

    def runner(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = work()
        except Exception as exc:  # recorded for the test to assert on
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n, work)) for n, work in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_linking_makes_one_contact_and_one_link() -> None:
    org = inbox_make.organization()
    who = inbox_make.contact(org, name="Maria", email="maria@example.com")

    outcomes = run_together([lambda: support_link.contact_for_support_contact(who)] * 8)

    contact = Contact.objects.get()
    assert [outcome.pk if isinstance(outcome, Contact) else outcome for outcome in outcomes] == [
        contact.pk
    ] * 8
    assert list(SupportContactLink.objects.values_list("contact_id", flat=True)) == [contact.pk]
    assert Activity.objects.filter(kind=ActivityKind.CREATED).count() == 1
