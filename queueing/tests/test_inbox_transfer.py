"""Assigning, transferring and merging conversations."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from accounts.roles import Role
from accounts.tests.helpers import rows
from chat.models import Message, MessageKind
from core.exceptions import ApplicationError
from queueing import inbox
from queueing.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    SupportAgent,
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


def _open_count(user: Any) -> int:
    return SupportAgent.objects.get(user=user).open_count


def _state() -> dict[str, Any]:
    return {
        "conversations": rows(Conversation),
        "agents": rows(SupportAgent),
        "events": rows(ConversationEvent),
        "messages": rows(Message),
    }


def test_an_agent_takes_an_unassigned_conversation_of_their_queue() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    conversation = f.conversation(support_queue)

    taken = inbox.conversation_assign(actor=agent, conversation=conversation, user_id=agent.pk)

    assert taken.assignee_id == agent.pk
    assert taken.waiting_since is None
    assert _open_count(agent) == 1


def test_an_agent_cannot_assign_someone_elses_conversation() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    colleague = f.agent(org, support_queue)
    conversation = f.conversation(support_queue, assignee=colleague)
    before = _state()

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_assign(actor=agent, conversation=conversation, user_id=agent.pk)

    assert refused.value.code == "inbox.permission_denied"
    assert _state() == before


def test_transfer_to_an_agent_moves_the_conversation_and_leaves_a_note() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    other = f.agent(org, support_queue, display_name="Bruno Lima")
    conversation = f.conversation(support_queue, assignee=agent)

    result = inbox.conversation_transfer(
        actor=agent, conversation=conversation, to_user_id=other.pk, note="billing question"
    )

    assert result.assignee_id == other.pk
    assert (_open_count(agent), _open_count(other)) == (0, 1)
    assert list(
        Message.objects.filter(room_id=conversation.room_id).values_list("kind", "body", "author")
    ) == [(MessageKind.NOTE, "Transferred to Bruno Lima: billing question", agent.pk)]
    event = ConversationEvent.objects.get(kind=ConversationEventKind.TRANSFERRED)
    assert event.actor_id == agent.pk
    assert event.data["to_user"] == other.pk
    assert event.data["from_user"] == agent.pk
    assert event.data["note"] == "billing question"


def test_transfer_to_a_full_agent_is_refused_and_nothing_changes() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    full = f.agent(org, support_queue, capacity=1)
    f.conversation(support_queue, assignee=full)
    conversation = f.conversation(support_queue, assignee=agent)
    before = _state()

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_transfer(actor=agent, conversation=conversation, to_user_id=full.pk)

    assert (refused.value.code, refused.value.status_code) == ("inbox.agent_at_capacity", 409)
    assert _state() == before


def test_transfer_to_another_organizations_agent_is_refused_and_nothing_changes() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    stranger = f.agent(f.organization())
    viewer = f.member(org, role=Role.VIEWER)
    conversation = f.conversation(support_queue, assignee=agent)
    before = _state()

    codes = []
    for target in (stranger, viewer):
        with pytest.raises(ApplicationError) as refused:
            inbox.conversation_transfer(
                actor=agent, conversation=conversation, to_user_id=target.pk
            )
        codes.append((refused.value.code, refused.value.status_code))

    assert codes == [("inbox.agent_not_found", 404)] * 2
    assert _state() == before


def test_transfer_needs_exactly_one_target() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    conversation = f.conversation(support_queue, assignee=agent)
    before = _state()

    with pytest.raises(ApplicationError) as none:
        inbox.conversation_transfer(actor=agent, conversation=conversation)
    with pytest.raises(ApplicationError) as two:
        inbox.conversation_transfer(
            actor=agent, conversation=conversation, to_user_id=agent.pk, to_queue_id=1
        )

    assert none.value.code == two.value.code == "inbox.invalid_transfer"
    assert _state() == before


def test_transfer_to_a_queue_releases_the_agent_and_waits_there() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    billing = f.queue(org, name="Financeiro", strategy="manual")
    agent = f.agent(org, support_queue)
    conversation = f.conversation(support_queue, assignee=agent)

    result = inbox.conversation_transfer(
        actor=agent, conversation=conversation, to_queue_id=billing.pk
    )

    assert result.queue_id == billing.pk
    assert result.assignee_id is None
    assert result.waiting_since is not None
    assert _open_count(agent) == 0
    assert list(
        Message.objects.filter(room_id=conversation.room_id).values_list("kind", "body")
    ) == [(MessageKind.NOTE, "Transferred to Financeiro")]
    event = ConversationEvent.objects.get(kind=ConversationEventKind.TRANSFERRED)
    assert event.data == {
        "from_user": agent.pk,
        "from_queue": support_queue.pk,
        "to_queue": billing.pk,
        "to_department": billing.department_id,
        "note": "",
    }


def test_transfer_to_a_department_uses_its_top_priority_queue() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    sales = f.department(org, name="Vendas")
    f.queue(org, dept=sales, name="Baixa", strategy="manual", priority=1)
    top = f.queue(org, dept=sales, name="Alta", strategy="manual", priority=5)
    admin = f.member(org, role=Role.ORG_ADMIN)
    conversation = f.conversation(support_queue)

    result = inbox.conversation_transfer(
        actor=admin, conversation=conversation, to_department_id=sales.pk
    )

    assert result.queue_id == top.pk
    assert result.assignee_id is None


def test_transfer_to_another_organizations_queue_is_not_found() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    foreign = f.queue(f.organization(), strategy="manual")
    admin = f.member(org, role=Role.ORG_ADMIN)
    conversation = f.conversation(support_queue)
    before = _state()

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_transfer(actor=admin, conversation=conversation, to_queue_id=foreign.pk)

    assert (refused.value.code, refused.value.status_code) == ("inbox.queue_not_found", 404)
    assert _state() == before


def test_merge_moves_messages_and_resolves_the_source() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    who = f.contact(org)
    source = f.conversation(support_queue, who=who, assignee=agent, channel="in_app")
    target = f.conversation(support_queue, who=who, assignee=agent)
    inbox.contact_message_send(contact=who, conversation=source, body="from source")
    inbox.contact_message_send(contact=who, conversation=target, body="from target")
    assert _open_count(agent) == 2

    result = inbox.conversation_merge(actor=agent, source=source, target=target)

    source.refresh_from_db()
    assert result.pk == target.pk
    assert result.status == ConversationStatus.OPEN
    assert source.status == ConversationStatus.RESOLVED
    assert source.merged_into_id == target.pk
    assert _open_count(agent) == 1
    assert list(
        Message.objects.filter(room_id=target.room_id).order_by("pk").values_list("body", flat=True)
    ) == ["from source", "from target"]
    assert Message.objects.filter(room_id=source.room_id).count() == 0
    assert sorted(
        ConversationEvent.objects.filter(kind=ConversationEventKind.MERGED).values_list(
            "conversation_id", "data"
        )
    ) == sorted(
        [
            (source.pk, {"into": target.pk, "messages": 1}),
            (target.pk, {"from": source.pk, "messages": 1}),
        ]
    )


def test_merge_refuses_different_contacts_itself_and_twice() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    admin = f.member(org, role=Role.ORG_ADMIN)
    who = f.contact(org)
    one = f.conversation(support_queue, who=who)
    two = f.conversation(support_queue, who=who, channel="in_app")
    stranger = f.conversation(support_queue, who=f.contact(org, email="x@example.com"))
    before = _state()

    codes = []
    for source, target in ((one, stranger), (one, one)):
        with pytest.raises(ApplicationError) as refused:
            inbox.conversation_merge(actor=admin, source=source, target=target)
        codes.append(refused.value.code)
    assert codes == ["inbox.merge_different_contact", "inbox.merge_same"]
    assert _state() == before

    inbox.conversation_merge(actor=admin, source=one, target=two)
    with pytest.raises(ApplicationError) as again:
        inbox.conversation_merge(actor=admin, source=one, target=two)
    assert again.value.code == "inbox.already_merged"


def test_merge_needs_the_assignee_of_both_or_an_admin() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    colleague = f.agent(org, support_queue)
    who = f.contact(org)
    mine = f.conversation(support_queue, who=who, assignee=agent)
    theirs = f.conversation(support_queue, who=who, assignee=colleague, channel="in_app")
    before = _state()

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_merge(actor=agent, source=theirs, target=mine)

    assert refused.value.code == "inbox.permission_denied"
    assert _state() == before
