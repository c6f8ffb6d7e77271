"""Routing: strategies, pulling, filling an agent, assigning, unassigning and re-queueing."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import Role
from accounts.tests.helpers import committed, rows
from chat.models import Notification
from core.exceptions import ApplicationError
from queueing import routing
from queueing.models import (
    AgentAvailability,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    QueueMember,
    SupportAgent,
)
from queueing.tests import inbox_factories as f
from queueing.tests.routing_helpers import (
    assigned_events,
    event_rows,
    load,
    notification_rows,
    spy_events,
    state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    return spy_events(monkeypatch)


def route(conversation: Conversation, seconds: float = 0, **kwargs: Any) -> int | None:
    return routing.route_conversation(conversation_id=conversation.pk, now=f.at(seconds), **kwargs)


# --- route_conversation: what an assignment writes -------------------------------------------


def test_routing_assigns_and_records_everything_once(events: list[Any]) -> None:
    # Given a round-robin queue (re-queue after 120 s) with one available agent, and a visitor
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line, language="en")
    visitor = f.contact(org, name="Ana")
    conversation = f.conversation(line, who=visitor, waiting_since=f.at(-30))

    # When it is routed
    assignee = route(conversation, seconds=0)

    # Then the agent has it, it no longer waits, and must be answered within 120 s
    assert assignee == agent.pk
    assert state(conversation) == {
        "assignee_id": agent.pk,
        "assigned_at": f.at(0),
        "waiting_since": None,
        "requeue_due_at": f.at(120),
        "status": ConversationStatus.OPEN,
    }
    assert load(agent.pk) == {"open_count": 1, "capacity": 5, "last_assigned_at": f.at(0)}
    assert QueueMember.objects.get(queue=line, user=agent).last_assigned_at == f.at(0)
    assert event_rows() == [
        {
            "conversation_id": conversation.pk,
            "kind": "assigned",
            "actor_id": None,
            "data": {"to_user": agent.pk, "via": "routing", "strategy": "round_robin"},
            "created_at": f.at(0),
        }
    ]
    assert notification_rows() == [
        {
            "user_id": agent.pk,
            "kind": "support_assigned",
            "title": "Conversation assigned to you",
            "body": "Ana is waiting for an answer.",
            "url": f"/inbox/{conversation.pk}",
            "data": {"conversation_id": conversation.pk},
            "actor_id": None,
            "room_id": conversation.room_id,
        }
    ]
    assert Notification.objects.get().source == (
        f"assigned:{conversation.pk}:{ConversationEvent.objects.get().pk}"
    )
    assert events == assigned_events(conversation.pk, line.pk, org.pk)


def test_a_queue_that_never_requeues_sets_no_deadline() -> None:
    # Given a queue with re-queueing off
    org = f.organization()
    line = f.queue(org, requeue_after_seconds=0)
    f.agent(org, line)
    conversation = f.conversation(line)

    # When it is routed
    route(conversation)

    # Then nothing will take it back
    assert state(conversation)["requeue_due_at"] is None


def test_routing_something_that_does_not_wait_changes_nothing(events: list[Any]) -> None:
    # Given an assigned conversation, a resolved one and a manual queue's waiting one
    org = f.organization()
    line = f.queue(org)
    manual = f.queue(org, name="Manual", strategy="manual")
    agent = f.agent(org, line, manual)
    other = f.agent(org, line)
    taken = f.conversation(line, assignee=other)
    done = f.conversation(line, status=ConversationStatus.RESOLVED)
    pulled_only = f.conversation(manual)
    before = rows(Conversation), rows(SupportAgent)

    # When each is routed (and one that does not exist)
    outcomes = [route(taken), route(done), route(pulled_only)]
    outcomes.append(routing.route_conversation(conversation_id=999_999))

    # Then nobody got anything and nothing was written or announced
    assert outcomes == [None, None, None, None]
    assert (rows(Conversation), rows(SupportAgent)) == before
    assert ConversationEvent.objects.count() == 0
    assert events == []
    assert load(agent.pk)["open_count"] == 0


def test_nobody_eligible_leaves_it_waiting(events: list[Any]) -> None:
    # Given agents who are busy, disconnected, full, a viewer, not in the queue, or of
    # another organization
    org = f.organization()
    line = f.queue(org)
    busy = f.agent(org, line)
    SupportAgent.objects.filter(user=busy).update(availability=AgentAvailability.BUSY)
    gone = f.agent(org, line)
    SupportAgent.objects.filter(user=gone).update(connected=False)
    full = f.agent(org, line, capacity=1)
    f.conversation(line, assignee=full)
    f.agent(org, line, role=Role.VIEWER)
    f.agent(org)
    stranger_org = f.organization()
    stranger = f.agent(stranger_org, f.queue(stranger_org))
    QueueMember.objects.create(queue=line, user=stranger)
    conversation = f.conversation(line)
    waiting = state(conversation)

    # When it is routed
    assignee = route(conversation)

    # Then it still waits
    assert assignee is None
    assert state(conversation) == waiting
    assert events == []


def test_a_member_who_left_the_organization_gets_nothing() -> None:
    # Given the only agent of the queue lost their membership
    from accounts.models import Membership

    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line)
    Membership.objects.filter(user=agent).delete()
    conversation = f.conversation(line)

    # When it is routed, then nobody gets it
    assert route(conversation) is None


def test_excluded_agents_are_skipped() -> None:
    # Given two agents, the first in turn excluded
    org = f.organization()
    line = f.queue(org)
    first = f.agent(org, line)
    second = f.agent(org, line)
    conversation = f.conversation(line)

    # When it is routed without the first
    assignee = route(conversation, exclude_user_ids=[first.pk])

    # Then the second has it
    assert assignee == second.pk


# --- Strategies ----------------------------------------------------------------------------------


def test_round_robin_goes_around_the_members_in_turn() -> None:
    # Given three agents (never assigned) and five conversations
    org = f.organization()
    line = f.queue(org, strategy="round_robin")
    agents = [f.agent(org, line, capacity=10) for _ in range(3)]
    conversations = [f.conversation(line, who=f.contact(org)) for _ in range(5)]

    # When they are routed one after another (all at the same instant)
    assignees = [route(conversation, seconds=0) for conversation in conversations]

    # Then the wheel turns: first by user id, then whoever's turn is oldest
    a, b, c = (agent.pk for agent in agents)
    assert assignees == [a, b, c, a, b]


def test_round_robin_turns_are_per_queue_and_skip_unavailable_agents() -> None:
    # Given two queues sharing agents; the second agent's turn in queue one is the oldest,
    # the first agent has a fresher turn
    org = f.organization()
    one = f.queue(org, name="One")
    two = f.queue(org, name="Two")
    first = f.agent(org, one, two)
    second = f.agent(org, one, two)
    third = f.agent(org, one)
    QueueMember.objects.filter(queue=one, user=first).update(last_assigned_at=f.at(-10))
    QueueMember.objects.filter(queue=one, user=second).update(last_assigned_at=f.at(-20))
    QueueMember.objects.filter(queue=one, user=third).update(last_assigned_at=f.at(-30))
    SupportAgent.objects.filter(user=third).update(availability=AgentAvailability.BUSY)

    # When one conversation per queue is routed
    in_one = route(f.conversation(one, who=f.contact(org)))
    in_two = route(f.conversation(two, who=f.contact(org)))

    # Then queue one skips the busy third and goes by its own turns; queue two by user id
    assert (in_one, in_two) == (second.pk, first.pk)


def test_load_balance_picks_the_least_loaded_then_the_longest_idle() -> None:
    # Given three agents: one with two open, two with one open; of those, the second was
    # assigned longer ago
    org = f.organization()
    line = f.queue(org, strategy="load_balance")
    loaded, recent, idle = (f.agent(org, line) for _ in range(3))
    for agent, count in ((loaded, 2), (recent, 1), (idle, 1)):
        for _ in range(count):
            f.conversation(line, who=f.contact(org), assignee=agent)
    SupportAgent.objects.filter(user=recent).update(last_assigned_at=f.at(-10))
    SupportAgent.objects.filter(user=idle).update(last_assigned_at=f.at(-60))

    # When two conversations are routed
    first = route(f.conversation(line, who=f.contact(org)), seconds=0)
    second = route(f.conversation(line, who=f.contact(org)), seconds=1)

    # Then the longest idle of the least loaded, then the other one with one open
    assert (first, second) == (idle.pk, recent.pk)


def test_load_balance_ties_go_to_the_never_assigned_then_the_lowest_id() -> None:
    # Given two agents never assigned and one assigned before, all with nothing open
    org = f.organization()
    line = f.queue(org, strategy="load_balance")
    before = f.agent(org, line)
    SupportAgent.objects.filter(user=before).update(last_assigned_at=f.at(-100))
    low, high = f.agent(org, line), f.agent(org, line)

    # When a conversation is routed, then the lower id of the never-assigned has it
    assert route(f.conversation(line)) == low.pk
    assert high.pk > low.pk


def test_skills_based_prefers_agents_covering_every_label() -> None:
    # Given a free generalist and a busier agent who knows billing and VIP (any case)
    org = f.organization()
    line = f.queue(org, strategy="skills_based")
    generalist = f.agent(org, line, skills=["billing"])
    expert = f.agent(org, line, skills=["Billing", "vip", "refunds"])
    f.conversation(line, who=f.contact(org), assignee=expert)
    conversation = f.conversation(line, labels=["VIP", "billing"])

    # When it is routed, then the expert has it despite the load
    assert route(conversation) == expert.pk
    assert generalist.pk != expert.pk


def test_skills_based_falls_back_to_load_balance_when_nobody_has_the_skills() -> None:
    # Given two agents without the "legal" skill, the second with less open
    org = f.organization()
    line = f.queue(org, strategy="skills_based")
    first = f.agent(org, line, skills=["billing"])
    second = f.agent(org, line)
    f.conversation(line, who=f.contact(org), assignee=first)
    conversation = f.conversation(line, labels=["legal"])

    # When it is routed, then the least loaded has it
    assert route(conversation) == second.pk


def test_skills_based_without_labels_is_load_balance() -> None:
    org = f.organization()
    line = f.queue(org, strategy="skills_based")
    busy = f.agent(org, line, skills=["x"])
    free = f.agent(org, line)
    f.conversation(line, who=f.contact(org), assignee=busy)
    assert route(f.conversation(line)) == free.pk


# --- pull_next -----------------------------------------------------------------------------------


def test_pull_takes_priority_then_queue_priority_then_the_oldest(events: list[Any]) -> None:
    # Given a manual low-priority queue and a higher-priority queue, and waiting
    # conversations of several priorities and ages
    org = f.organization()
    low = f.queue(org, name="Low", strategy="manual", priority=0)
    high = f.queue(org, name="High", strategy="manual", priority=5)
    agent = f.agent(org, low, high, capacity=10)
    old_low = f.conversation(low, who=f.contact(org), waiting_since=f.at(-300))
    new_high = f.conversation(high, who=f.contact(org), waiting_since=f.at(-10))
    old_high = f.conversation(high, who=f.contact(org), waiting_since=f.at(-20))
    urgent = f.conversation(low, who=f.contact(org), priority=3, waiting_since=f.at(-1))

    # When the agent pulls four times
    pulled = [routing.pull_next(user=agent, organization_id=org.pk, now=f.at(0)) for _ in range(4)]

    # Then urgent first, then the high queue oldest first, then the low queue
    assert [c.pk for c in pulled] == [urgent.pk, old_high.pk, new_high.pk, old_low.pk]
    assert load(agent.pk)["open_count"] == 4
    # They took them: the event names them as actor and nobody is notified
    assert event_rows(urgent) == [
        {
            "conversation_id": urgent.pk,
            "kind": "assigned",
            "actor_id": agent.pk,
            "data": {"to_user": agent.pk, "via": "pull"},
            "created_at": f.at(0),
        }
    ]
    assert Notification.objects.count() == 0
    assert events[:3] == assigned_events(urgent.pk, low.pk, org.pk)
    assert len(events) == 12


def test_pull_is_allowed_while_busy_and_only_from_own_queues() -> None:
    # Given a busy, disconnected agent of one queue; a conversation in another queue and in
    # another organization
    org = f.organization()
    mine = f.queue(org, name="Mine")
    theirs = f.queue(org, name="Theirs")
    agent = f.agent(org, mine, online=False)
    f.conversation(theirs, who=f.contact(org))
    other_org = f.organization()
    f.conversation(f.queue(other_org), who=f.contact(other_org))
    waiting = f.conversation(mine, who=f.contact(org))

    # When they pull, then they get the one of their queue
    assert routing.pull_next(user=agent, organization_id=org.pk).pk == waiting.pk

    # And then nothing is left for them
    with pytest.raises(ApplicationError) as nothing:
        routing.pull_next(user=agent, organization_id=org.pk)
    assert (nothing.value.code, nothing.value.status_code) == ("inbox.nothing_waiting", 404)


def test_pull_at_capacity_is_refused_and_changes_nothing() -> None:
    # Given a full agent and a waiting conversation
    org = f.organization()
    line = f.queue(org, strategy="manual")
    agent = f.agent(org, line, capacity=1)
    f.conversation(line, who=f.contact(org), assignee=agent)
    f.conversation(line, who=f.contact(org))
    before = rows(Conversation), rows(SupportAgent), rows(ConversationEvent)

    # When they pull
    with pytest.raises(ApplicationError) as refused:
        routing.pull_next(user=agent, organization_id=org.pk)

    # Then 409, and nothing moved
    assert (refused.value.code, refused.value.status_code) == ("inbox.agent_at_capacity", 409)
    assert (rows(Conversation), rows(SupportAgent), rows(ConversationEvent)) == before


def test_viewers_and_outsiders_cannot_pull() -> None:
    org = f.organization()
    line = f.queue(org)
    f.conversation(line)
    viewer = f.member(org, role=Role.VIEWER)
    outsider = f.member(f.organization())
    for person in (viewer, outsider):
        with pytest.raises(ApplicationError) as refused:
            routing.pull_next(user=person, organization_id=org.pk)
        assert (refused.value.code, refused.value.status_code) == (
            "inbox.permission_denied",
            403,
        )
    assert SupportAgent.objects.count() == 0


def test_pulling_creates_the_agent_row_of_an_agent_who_had_none() -> None:
    # Given an org admin who is a queue member but never opened the inbox
    org = f.organization()
    line = f.queue(org)
    admin = f.member(org, role=Role.ORG_ADMIN)
    QueueMember.objects.create(queue=line, user=admin)
    conversation = f.conversation(line)

    # When they pull, then it is theirs and they have an (offline) agent row counting it
    assert routing.pull_next(user=admin, organization_id=org.pk).pk == conversation.pk
    agent = SupportAgent.objects.get(user=admin)
    assert (agent.availability, agent.open_count, agent.capacity) == ("offline", 1, 5)


# --- assign_waiting_for_agent and route_waiting ------------------------------------------------


def test_filling_an_agent_takes_their_routed_queues_in_line_order(events: list[Any]) -> None:
    # Given an agent with room for 2 in a routed and a manual queue, and three waiting
    org = f.organization()
    routed = f.queue(org, name="Routed", strategy="load_balance")
    manual = f.queue(org, name="Manual", strategy="manual", priority=9)
    agent = f.agent(org, routed, manual, capacity=3)
    f.conversation(routed, who=f.contact(org), assignee=agent)
    older = f.conversation(routed, who=f.contact(org), waiting_since=f.at(-50))
    newer = f.conversation(routed, who=f.contact(org), waiting_since=f.at(-10))
    f.conversation(routed, who=f.contact(org), waiting_since=f.at(-5))
    pull_only = f.conversation(manual, who=f.contact(org), waiting_since=f.at(-999))

    # When their free capacity is filled
    assigned = routing.assign_waiting_for_agent(
        organization_id=org.pk, user_id=agent.pk, now=f.at(0)
    )

    # Then the two oldest of the routed queue are theirs; the manual one still waits
    assert assigned == [older.pk, newer.pk]
    assert load(agent.pk)["open_count"] == 3
    assert state(pull_only)["assignee_id"] is None
    assert events == [
        ("conversation_changed", [older.pk, newer.pk]),
        ("queue_positions_changed", routed.pk),
        ("supervisor_changed", org.pk),
    ]
    # A second fill finds them full
    assert routing.assign_waiting_for_agent(organization_id=org.pk, user_id=agent.pk) == []


def test_filling_an_unavailable_agent_does_nothing() -> None:
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line, online=False)
    f.conversation(line)
    assert routing.assign_waiting_for_agent(organization_id=org.pk, user_id=agent.pk) == []
    assert routing.assign_waiting_for_agent(organization_id=org.pk, user_id=999_999) == []
    assert Conversation.objects.filter(assignee__isnull=False).count() == 0


def test_route_waiting_routes_the_line_until_nobody_is_left() -> None:
    # Given two agents with room for 2 and 5 waiting conversations
    org = f.organization()
    line = f.queue(org)
    a = f.agent(org, line, capacity=2)
    b = f.agent(org, line, capacity=2)
    waiting = [f.conversation(line, who=f.contact(org), waiting_since=f.at(n)) for n in range(5)]

    # When the queue is routed
    assigned = routing.route_waiting(queue_id=line.pk)

    # Then the first four (in line order) are assigned, turn by turn; the fifth waits
    assert assigned == [c.pk for c in waiting[:4]]
    assert [state(c)["assignee_id"] for c in waiting] == [a.pk, b.pk, a.pk, b.pk, None]
    assert routing.route_waiting(queue_id=f.queue(org, name="M", strategy="manual").pk) == []


# --- assign_to -----------------------------------------------------------------------------------


def test_assigning_a_waiting_conversation_notifies_the_assignee(events: list[Any]) -> None:
    # Given an admin assigning a waiting conversation to an agent
    org = f.organization()
    line = f.queue(org, strategy="manual")
    admin = f.member(org, role=Role.ORG_ADMIN)
    agent = f.agent(org, line, online=False, language="en")
    conversation = f.conversation(line, who=f.contact(org, name="Bia"))

    # When they assign it
    result = routing.assign_to(
        conversation=conversation, user_id=agent.pk, actor_id=admin.pk, now=f.at(5)
    )

    # Then it is the agent's (offline agents may be assigned by a person), with an event and
    # a notification naming the admin
    assert result.assignee_id == agent.pk
    assert state(conversation)["assignee_id"] == agent.pk
    assert load(agent.pk)["open_count"] == 1
    assert event_rows() == [
        {
            "conversation_id": conversation.pk,
            "kind": "assigned",
            "actor_id": admin.pk,
            "data": {"to_user": agent.pk, "via": "manual"},
            "created_at": f.at(5),
        }
    ]
    assert [(n["user_id"], n["actor_id"], n["body"]) for n in notification_rows()] == [
        (agent.pk, admin.pk, "Bia is waiting for an answer.")
    ]
    assert events == assigned_events(conversation.pk, line.pk, org.pk)


def test_transferring_moves_the_count_and_fills_the_previous_agent() -> None:
    # Given a conversation assigned to the first agent and another waiting in a routed queue
    org = f.organization()
    line = f.queue(org)
    first = f.agent(org, line)
    second = f.agent(org, line)
    conversation = f.conversation(line, who=f.contact(org), assignee=first)
    waiting = f.conversation(line, who=f.contact(org))

    # When it is transferred to the second (as helper services do)
    with committed():
        routing.assign_to(
            conversation=conversation,
            user_id=second.pk,
            actor_id=first.pk,
            kind="transferred",
            data={"note": "VIP"},
            now=f.at(1),
        )

    # Then the second has it, the first's freed room took the waiting conversation
    assert state(conversation)["assignee_id"] == second.pk
    assert state(waiting)["assignee_id"] == first.pk
    assert (load(first.pk)["open_count"], load(second.pk)["open_count"]) == (1, 1)
    assert event_rows(conversation)[-1]["data"] == {
        "to_user": second.pk,
        "via": "manual",
        "note": "VIP",
        "from_user": first.pk,
    }


def test_assigning_to_a_full_agent_is_refused_and_changes_nothing(events: list[Any]) -> None:
    # Given a full agent and an assigned conversation to transfer to them
    org = f.organization()
    line = f.queue(org)
    full = f.agent(org, line, capacity=1)
    f.conversation(line, who=f.contact(org), assignee=full)
    holder = f.agent(org, line)
    conversation = f.conversation(line, who=f.contact(org), assignee=holder)
    before = rows(Conversation), rows(SupportAgent), rows(ConversationEvent)

    # When it is transferred to them
    with pytest.raises(ApplicationError) as refused:
        routing.assign_to(conversation=conversation, user_id=full.pk, actor_id=holder.pk)

    # Then 409, nothing moved, nothing announced
    assert (refused.value.code, refused.value.status_code) == ("inbox.agent_at_capacity", 409)
    assert (rows(Conversation), rows(SupportAgent), rows(ConversationEvent)) == before
    assert events == []


def test_assigning_to_a_non_agent_or_a_resolved_conversation_is_refused() -> None:
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line)
    viewer = f.member(org, role=Role.VIEWER)
    outsider = f.agent(f.organization())
    open_one = f.conversation(line, who=f.contact(org))
    resolved = f.conversation(line, who=f.contact(org), status=ConversationStatus.RESOLVED)
    outcomes = []
    for conversation, user in ((open_one, viewer), (open_one, outsider), (resolved, agent)):
        with pytest.raises(ApplicationError) as refused:
            routing.assign_to(conversation=conversation, user_id=user.pk, actor_id=None)
        outcomes.append((refused.value.code, refused.value.status_code))
    assert outcomes == [
        ("inbox.agent_not_found", 404),
        ("inbox.agent_not_found", 404),
        ("inbox.conversation_resolved", 409),
    ]
    assert ConversationEvent.objects.count() == 0


def test_assigning_to_the_current_assignee_changes_nothing() -> None:
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line)
    conversation = f.conversation(line, assignee=agent)
    before = rows(Conversation), rows(SupportAgent)
    routing.assign_to(conversation=conversation, user_id=agent.pk, actor_id=agent.pk)
    assert (rows(Conversation), rows(SupportAgent)) == before
    assert ConversationEvent.objects.count() == 0


# --- unassign, release, re-queue -----------------------------------------------------------------


def test_unassigning_puts_it_back_in_line_and_routes_it_again(events: list[Any]) -> None:
    # Given a conversation assigned to the first of two agents
    org = f.organization()
    line = f.queue(org)
    first = f.agent(org, line)
    second = f.agent(org, line)
    QueueMember.objects.filter(user=first).update(last_assigned_at=f.at(-1))
    conversation = f.conversation(line, assignee=first)

    # When an admin unassigns it without re-routing
    routing.unassign(
        conversation=conversation, actor_id=None, kind="unassigned", requeue=False, now=f.at(3)
    )

    # Then it waits again from now, and the first's count dropped
    assert state(conversation) == {
        "assignee_id": None,
        "assigned_at": None,
        "waiting_since": f.at(3),
        "requeue_due_at": None,
        "status": "open",
    }
    assert load(first.pk)["open_count"] == 0
    assert event_rows()[-1]["data"] == {"from_user": first.pk}
    assert events == assigned_events(conversation.pk, line.pk, org.pk)

    # And with re-routing (after commit) it goes to whoever's turn it is
    routing.assign_to(conversation=conversation, user_id=first.pk, actor_id=None)
    with committed():
        routing.unassign(conversation=conversation, actor_id=None, kind="unassigned")
    assert state(conversation)["assignee_id"] == second.pk


def test_requeue_takes_unanswered_conversations_to_someone_else() -> None:
    # Given a conversation assigned at 0 (re-queue after 120 s) with another agent free,
    # and one assigned later
    org = f.organization()
    line = f.queue(org)
    slow = f.agent(org, line)
    other = f.agent(org, line)
    QueueMember.objects.filter(user=other).update(last_assigned_at=f.at(50))
    late = f.conversation(line, who=f.contact(org))
    routing.assign_to(conversation=late, user_id=slow.pk, actor_id=None, now=f.at(0))
    recent = f.conversation(line, who=f.contact(org))
    routing.assign_to(conversation=recent, user_id=slow.pk, actor_id=None, now=f.at(100))

    # When the re-queue pass runs at 130 s
    with committed():
        count = routing.requeue_unanswered(now=f.at(130))

    # Then the late one went to the other agent, never back to the slow one; the recent stays
    assert count == 1
    assert state(late)["assignee_id"] == other.pk
    assert state(recent)["assignee_id"] == slow.pk
    assert (load(slow.pk)["open_count"], load(other.pk)["open_count"]) == (1, 1)
    assert [row["kind"] for row in event_rows(late)] == ["assigned", "requeued", "assigned"]
    assert event_rows(late)[1]["data"] == {"from_user": slow.pk, "after_seconds": 120}
    # A second pass finds nothing
    assert routing.requeue_unanswered(now=f.at(130)) == 0


def test_requeue_with_nobody_else_leaves_it_waiting() -> None:
    org = f.organization()
    line = f.queue(org)
    only = f.agent(org, line)
    conversation = f.conversation(line)
    routing.assign_to(conversation=conversation, user_id=only.pk, actor_id=None, now=f.at(0))
    with committed():
        assert routing.requeue_unanswered(now=f.at(120)) == 1
    assert state(conversation)["assignee_id"] is None
    assert state(conversation)["waiting_since"] == f.at(120)
    assert load(only.pk)["open_count"] == 0


def test_release_on_resolve_frees_the_agent_and_fills_them() -> None:
    # Given a full agent (capacity 1) and a waiting conversation behind
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line, capacity=1)
    conversation = f.conversation(line, who=f.contact(org), assignee=agent)
    waiting = f.conversation(line, who=f.contact(org))

    # When the conversation is resolved (as the inbox service does)
    with committed():
        locked, _agents = routing.conversation_lock(conversation_id=conversation.pk)
        locked.status = ConversationStatus.RESOLVED
        locked.requeue_due_at = f.at(9)
        routing.release_on_resolve(conversation=locked)
        locked.save(update_fields=["status", "requeue_due_at"])

    # Then their freed room took the waiting one
    assert locked.requeue_due_at is None
    assert state(waiting)["assignee_id"] == agent.pk
    assert load(agent.pk)["open_count"] == 1


def test_conversation_lock_returns_the_assignee_and_the_asked_agents() -> None:
    org = f.organization()
    line = f.queue(org)
    holder = f.agent(org, line)
    other = f.agent(org, line)
    conversation = f.conversation(line, assignee=holder)
    locked, agents = routing.conversation_lock(
        conversation_id=conversation.pk, user_ids=[other.pk, 999_999]
    )
    assert locked.pk == conversation.pk
    assert sorted(agents) == sorted([holder.pk, other.pk])


def test_an_assignment_reaches_the_inbox_the_conversation_and_the_supervisors(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    # Given a waiting conversation and an available agent (real inbox events, no spy)
    org = f.organization()
    line = f.queue(org)
    agent = f.agent(org, line)
    conversation = f.conversation(line)

    # When it is routed and the transaction commits
    with committed():
        route(conversation)

    # Then the staff inbox, the conversation, the contact's widget, the supervisors and the
    # assignee's own notification feed heard about it
    assert sorted({(group, message["event"]) for group, message in published}) == sorted(
        {
            (f"queueing.inbox.{org.pk}", "inbox.conversation.updated"),
            (f"queueing.conversation.{conversation.pk}", "inbox.conversation.updated"),
            (f"widget.contact.{conversation.contact_id}", "widget.conversation.updated"),
            (f"queueing.supervisor.{org.pk}", "inbox.supervisor.updated"),
            (f"user.{agent.pk}", "chat.notification.created"),
        }
    )
