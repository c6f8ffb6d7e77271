"""Inbox reads: list views, queue positions, the supervisor snapshot, the offline form."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from accounts.roles import Role
from queueing import inbox
from queueing.inbox_selectors import (
    conversation_data,
    conversation_list,
    queue_position,
    supervisor_snapshot,
)
from queueing.models import Conversation
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


def test_list_views_follow_visibility_and_take_constant_queries(
    django_assert_num_queries: Any,
) -> None:
    org = f.organization()
    mine_queue = f.queue(org, strategy="manual")
    other_queue = f.queue(org, name="Outra", strategy="manual")
    agent = f.agent(org, mine_queue)
    admin = f.member(org, role=Role.ORG_ADMIN)
    assigned = f.conversation(mine_queue, assignee=agent)
    waiting = f.conversation(mine_queue)
    hidden = f.conversation(other_queue)
    f.conversation(f.queue(f.organization()))  # another tenant's

    def ids(user: Any, view: str, **filters: Any) -> set[int]:
        return {
            item.pk
            for item in conversation_list(user=user, organization_id=org.pk, view=view, **filters)
        }

    assert ids(agent, "mine") == {assigned.pk}
    assert ids(agent, "unassigned") == {waiting.pk}
    assert ids(agent, "all") == {assigned.pk, waiting.pk}
    assert ids(admin, "all") == {assigned.pk, waiting.pk, hidden.pk}
    assert ids(admin, "all", queue_id=other_queue.pk) == {hidden.pk}
    assert ids(admin, "nonsense") == set()
    for _ in range(5):
        f.conversation(mine_queue)
    with django_assert_num_queries(2):  # the role, then the page
        [conversation_data(item) for item in conversation_list(user=admin, organization_id=org.pk)]


def test_positions_follow_priority_then_age() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    first = f.conversation(support_queue, waiting_since=f.at(0))
    second = f.conversation(support_queue, waiting_since=f.at(10))
    urgent = f.conversation(support_queue, waiting_since=f.at(20), priority=3)

    assert [queue_position(item) for item in (urgent, first, second)] == [1, 2, 3]


def test_supervisor_snapshot_counts_each_queue_and_agent() -> None:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue, capacity=3, display_name="Ana")
    f.conversation(support_queue, waiting_since=f.at(0))
    f.conversation(support_queue, assignee=agent)

    snapshot = supervisor_snapshot(org.pk)

    assert snapshot == {
        "queues": [
            {
                "id": support_queue.pk,
                "name": "Geral",
                "department": {"id": support_queue.department_id, "name": "Suporte"},
                "waiting": 1,
                "open": 2,
                "oldest_waiting_since": f.at(0),
                "breached": 0,
            }
        ],
        "agents": [
            {
                "user_id": agent.pk,
                "name": "Ana",
                "availability": "online",
                "connected": True,
                "available": True,
                "open_count": 1,
                "capacity": 3,
            }
        ],
    }


def test_an_offline_message_keeps_a_conversation_and_emails_the_widget_address(
    django_capture_on_commit_callbacks: Any,
) -> None:
    org = f.organization(name="Escola")
    f.queue(org, strategy="manual")
    f.widget(org, offline_email="help@escola.example")
    who = f.contact(org, name="", email="")

    # The email is written in the active language (a visitor writing in English).
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        conversation = inbox.offline_message(
            contact=who,
            department_id=None,
            body="Call me back",
            name="Maria",
            email="m@example.com",
        )

    who.refresh_from_db()
    assert (who.name, who.email) == ("Maria", "m@example.com")
    assert Conversation.objects.get().pk == conversation.pk
    assert conversation.offline is True
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert (sent.to, sent.reply_to, sent.subject) == (
        ["help@escola.example"],
        ["m@example.com"],
        "New offline message from Maria",
    )
    assert "Call me back" in sent.body
    assert f"/inbox/{conversation.pk}" in sent.body
