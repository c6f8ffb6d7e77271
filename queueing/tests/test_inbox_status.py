"""Status changes (pending, snooze and wake, resolve, reopen), priority, labels and CSAT."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from queueing import inbox
from queueing.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationStatus,
    CsatResponse,
    SlaStatus,
    SupportAgent,
)
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


def _setup() -> tuple[Any, Any, Any]:
    org = f.organization()
    support_queue = f.queue(org, strategy="manual")
    agent = f.agent(org, support_queue)
    return org, support_queue, agent


def _open_count(user: Any) -> int:
    return SupportAgent.objects.get(user=user).open_count


def test_snooze_then_wake_opens_it_again() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)
    until = timezone.now() + datetime.timedelta(hours=1)

    snoozed = inbox.conversation_status_set(
        actor=agent, conversation=conversation, status="snoozed", snoozed_until=until
    )
    early = inbox.wake_snoozed(now=until - datetime.timedelta(seconds=1))
    woken = inbox.wake_snoozed(now=until)
    again = inbox.wake_snoozed(now=until)

    assert (snoozed.status, snoozed.snoozed_until) == (ConversationStatus.SNOOZED, until)
    assert (early, woken, again) == (0, 1, 0)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == (ConversationStatus.OPEN, None)
    assert conversation.assignee_id == agent.pk
    assert list(
        ConversationEvent.objects.filter(kind=ConversationEventKind.STATUS)
        .order_by("id")
        .values_list("actor_id", "data")
    ) == [
        (agent.pk, {"from": "open", "to": "snoozed", "snoozed_until": until.isoformat()}),
        (None, {"from": "snoozed", "to": "open"}),
    ]


def test_an_unassigned_snoozed_conversation_wakes_into_the_line() -> None:
    _org, support_queue, _agent = _setup()
    conversation = f.conversation(
        support_queue, status=ConversationStatus.SNOOZED, snoozed_until=f.at(0)
    )

    assert inbox.wake_snoozed(now=f.at(10)) == 1

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.waiting_since == f.at(10)


def test_snooze_needs_a_future_time_and_nothing_changes_otherwise() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)
    before = rows(Conversation)

    with pytest.raises(ApplicationError) as past:
        inbox.conversation_status_set(
            actor=agent, conversation=conversation, status="snoozed", snoozed_until=f.at(-1)
        )
    with pytest.raises(ApplicationError) as missing:
        inbox.conversation_status_set(actor=agent, conversation=conversation, status="snoozed")
    with pytest.raises(ApplicationError) as unknown:
        inbox.conversation_status_set(actor=agent, conversation=conversation, status="closed")

    assert [past.value.code, missing.value.code, unknown.value.code] == [
        "inbox.invalid_snooze",
        "inbox.invalid_snooze",
        "inbox.invalid_status",
    ]
    assert rows(Conversation) == before
    assert ConversationEvent.objects.count() == 0


def test_resolve_releases_the_agent_and_asks_the_contact_for_a_rating(
    django_capture_on_commit_callbacks: Any, published: list[Any]
) -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(
        support_queue,
        assignee=agent,
        resolution_status=SlaStatus.ACTIVE,
        resolution_due_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert _open_count(agent) == 1

    with django_capture_on_commit_callbacks(execute=True):
        resolved = inbox.conversation_status_set(
            actor=agent, conversation=conversation, status="resolved"
        )

    assert resolved.status == ConversationStatus.RESOLVED
    assert resolved.resolved_by_id == agent.pk
    assert resolved.resolved_at is not None
    assert resolved.assignee_id == agent.pk
    assert resolved.resolution_status == SlaStatus.MET
    assert _open_count(agent) == 0
    widget = [
        (message["event"], message["data"])
        for group, message in published
        if group == f"widget.contact.{conversation.contact_id}"
    ]
    assert widget == [
        ("widget.csat.requested", {"conversation_id": conversation.pk}),
        (
            "widget.conversation.updated",
            {
                "id": conversation.pk,
                "status": "resolved",
                "assignee_name": agent.display_name.split()[0]
                if agent.display_name
                else agent.email.split("@")[0],
                "position": None,
                "estimated_wait_seconds": None,
                "csat_requested": True,
                "rated": False,
            },
        ),
    ]


def test_another_agent_or_a_viewer_cannot_change_the_status() -> None:
    org, support_queue, agent = _setup()
    colleague = f.agent(org, support_queue)
    viewer = f.member(org, role=Role.VIEWER)
    conversation = f.conversation(support_queue, assignee=agent)
    before = rows(Conversation)

    codes = []
    for actor in (colleague, viewer):
        with pytest.raises(ApplicationError) as refused:
            inbox.conversation_status_set(actor=actor, conversation=conversation, status="pending")
        codes.append(refused.value.code)

    assert codes == ["inbox.permission_denied"] * 2
    assert rows(Conversation) == before


def test_reopen_gives_it_back_to_the_last_assignee() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)
    inbox.conversation_status_set(actor=agent, conversation=conversation, status="resolved")

    reopened = inbox.conversation_reopen(actor=agent, conversation=conversation)

    assert reopened.status == ConversationStatus.OPEN
    assert reopened.assignee_id == agent.pk
    assert reopened.resolved_at is None
    assert reopened.waiting_since is None
    assert _open_count(agent) == 1


def test_reopen_by_a_full_agent_puts_it_in_line() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)
    inbox.conversation_status_set(actor=agent, conversation=conversation, status="resolved")
    SupportAgent.objects.filter(user=agent).update(capacity=0)

    reopened = inbox.conversation_reopen(actor=agent, conversation=conversation)

    assert reopened.status == ConversationStatus.OPEN
    assert reopened.assignee_id is None
    assert reopened.waiting_since is not None
    assert _open_count(agent) == 0


def test_reopen_is_refused_when_the_contact_has_another_open_conversation() -> None:
    _org, support_queue, agent = _setup()
    who = f.contact(_org)
    old = f.conversation(support_queue, who=who, assignee=agent)
    inbox.conversation_status_set(actor=agent, conversation=old, status="resolved")
    f.conversation(support_queue, who=who)
    before = rows(Conversation)

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_reopen(actor=agent, conversation=old)

    assert refused.value.code == "inbox.contact_has_open_conversation"
    assert rows(Conversation) == before


def test_priority_and_labels_are_normalized_and_logged() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)

    updated = inbox.conversation_update(
        actor=agent, conversation=conversation, priority=3, labels=[" Billing ", "billing", "VIP"]
    )

    assert (updated.priority, updated.labels) == (3, ["billing", "vip"])
    assert list(ConversationEvent.objects.order_by("id").values_list("kind", "data")) == [
        (ConversationEventKind.PRIORITY, {"from": 1, "to": 3}),
        (ConversationEventKind.LABELS, {"from": [], "to": ["billing", "vip"]}),
    ]


def test_labels_and_priority_are_validated() -> None:
    _org, support_queue, agent = _setup()
    conversation = f.conversation(support_queue, assignee=agent)
    before = rows(Conversation)

    codes = []
    for fields in (
        {"priority": 9},
        {"labels": [f"l{i}" for i in range(21)]},
        {"labels": ["x" * 41]},
        {"labels": "vip"},
    ):
        with pytest.raises(ApplicationError) as refused:
            inbox.conversation_update(actor=agent, conversation=conversation, **fields)
        codes.append(refused.value.code)

    assert codes == [
        "inbox.invalid_priority",
        "inbox.too_many_labels",
        "inbox.invalid_labels",
        "inbox.invalid_labels",
    ]
    assert rows(Conversation) == before


def test_csat_is_for_a_resolved_conversation_once_from_one_to_five() -> None:
    _org, support_queue, agent = _setup()
    who = f.contact(_org)
    conversation = f.conversation(support_queue, who=who, assignee=agent)

    with pytest.raises(ApplicationError) as early:
        inbox.csat_submit(contact=who, conversation=conversation, rating=5)
    inbox.conversation_status_set(actor=agent, conversation=conversation, status="resolved")
    with pytest.raises(ApplicationError) as out_of_range:
        inbox.csat_submit(contact=who, conversation=conversation, rating=6)
    csat = inbox.csat_submit(contact=who, conversation=conversation, rating=4, comment=" ok ")
    with pytest.raises(ApplicationError) as twice:
        inbox.csat_submit(contact=who, conversation=conversation, rating=1)
    stranger = f.contact(_org, email="s@example.com")
    with pytest.raises(ApplicationError) as not_theirs:
        inbox.csat_submit(contact=stranger, conversation=conversation, rating=1)

    assert (early.value.code, early.value.status_code) == ("widget.not_resolved", 409)
    assert (out_of_range.value.code, out_of_range.value.status_code) == (
        "widget.invalid_rating",
        422,
    )
    assert (twice.value.code, twice.value.status_code) == ("widget.already_rated", 409)
    assert (not_theirs.value.code, not_theirs.value.status_code) == ("widget.not_found", 404)
    assert list(
        CsatResponse.objects.values_list("conversation_id", "agent_id", "rating", "comment")
    ) == [(conversation.pk, agent.pk, 4, "ok")]
    assert csat.rating == 4
    assert list(
        ConversationEvent.objects.filter(kind=ConversationEventKind.CSAT).values_list(
            "data", flat=True
        )
    ) == [{"rating": 4, "agent": agent.pk}]


def test_an_admin_may_act_on_any_conversation_of_the_org_but_not_another_orgs() -> None:
    org, support_queue, _agent = _setup()
    admin = f.member(org, role=Role.ORG_ADMIN)
    foreign_admin = f.member(f.organization(), role=Role.ORG_ADMIN)
    conversation = f.conversation(support_queue)

    with pytest.raises(ApplicationError) as refused:
        inbox.conversation_status_set(
            actor=foreign_admin, conversation=conversation, status="pending"
        )
    pending = inbox.conversation_status_set(
        actor=admin, conversation=conversation, status="pending"
    )

    assert (refused.value.code, refused.value.status_code) == ("inbox.not_found", 404)
    assert (pending.status, pending.waiting_since) == (ConversationStatus.PENDING, None)
