"""Routing under real concurrent transactions, with real row locks (PostgreSQL only).

SQLite takes one write lock for the whole database, so these interleavings cannot happen
there. Every thread opens its own connection and closes it when it is done.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from core.exceptions import ApplicationError
from queueing import routing
from queueing.models import Conversation, ConversationEvent, SupportAgent, SupportQueue
from queueing.tests import inbox_factories as f
from queueing.tests.routing_helpers import real_open_count, spy_events

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

AGENTS = 50


@pytest.fixture(autouse=True)
def _events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    return spy_events(monkeypatch)


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

    threads = [
        threading.Thread(target=runner, args=(n, work), daemon=True) for n, work in enumerate(works)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def code(outcome: Any) -> str:
    return outcome.code if isinstance(outcome, ApplicationError) else type(outcome).__name__


def assert_counts_are_true(users: list[User]) -> None:
    """Every agent's open_count is their real number of unresolved conversations, within
    capacity."""
    for agent in SupportAgent.objects.filter(user__in=users):
        assert agent.open_count == real_open_count(agent.user_id), agent.user_id
        assert agent.open_count <= agent.capacity, agent.user_id


def assigned_once(queue: SupportQueue) -> Counter[int]:
    """How many assignment events each conversation of the queue got."""
    return Counter(
        ConversationEvent.objects.filter(conversation__queue=queue, kind="assigned").values_list(
            "conversation_id", flat=True
        )
    )


def team(size: int, *, strategy: str = "manual", capacity: int = 2, online: bool = True) -> Any:
    org = f.organization()
    line = f.queue(org, strategy=strategy)
    users = [f.agent(org, line, capacity=capacity, online=online) for _ in range(size)]
    return org, line, users


def test_fifty_agents_pulling_at_once_never_share_a_conversation() -> None:
    # Given 50 agents with room for 2 each, and 120 conversations waiting
    org, line, users = team(AGENTS)
    for _ in range(120):
        f.conversation(line, who=f.contact(org))

    # When every agent pulls three times, all at the same moment
    def puller(user: User) -> Callable[[], list[Any]]:
        def pull() -> list[Any]:
            results: list[Any] = []
            for _ in range(3):
                try:
                    results.append(routing.pull_next(user=user, organization_id=org.pk).pk)
                except ApplicationError as exc:
                    results.append(exc.code)
            return results

        return pull

    outcomes = run_together([puller(user) for user in users])

    # Then each got two different conversations and was then told they are full
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    for outcome in outcomes:
        assert isinstance(outcome[0], int) and isinstance(outcome[1], int)
        assert outcome[2] == "inbox.agent_at_capacity"
    pulled = [pk for outcome in outcomes for pk in outcome[:2]]
    assert len(pulled) == len(set(pulled)) == 100
    # The database agrees: 100 assigned once each, to the agent who pulled it; 20 still wait
    for user, outcome in zip(users, outcomes, strict=True):
        assert set(Conversation.objects.filter(assignee=user).values_list("pk", flat=True)) == set(
            outcome[:2]
        )
    assert set(assigned_once(line).values()) == {1}
    assert Conversation.objects.filter(queue=line, waiting_since__isnull=False).count() == 20
    assert_counts_are_true(users)


def test_more_pullers_than_conversations_each_get_one_or_nothing() -> None:
    # Given 50 agents and only 10 conversations waiting
    org, line, users = team(AGENTS)
    for _ in range(10):
        f.conversation(line, who=f.contact(org))

    # When all pull at once
    outcomes = run_together(
        [lambda user=user: routing.pull_next(user=user, organization_id=org.pk) for user in users]
    )

    # Then ten got one each, forty were told nothing waits
    codes = Counter(
        "pulled" if isinstance(outcome, Conversation) else code(outcome) for outcome in outcomes
    )
    assert codes == {"pulled": 10, "inbox.nothing_waiting": 40}
    assert len({outcome.pk for outcome in outcomes if isinstance(outcome, Conversation)}) == 10
    assert set(assigned_once(line).values()) == {1}
    assert_counts_are_true(users)


def test_routing_filling_and_pulling_at_once_never_double_assign() -> None:
    # Given 10 online agents (room for 3 each) in a load-balanced queue and 40 waiting
    org, line, users = team(10, strategy="load_balance", capacity=3)
    waiting = [f.conversation(line, who=f.contact(org)) for _ in range(40)]

    # When 30 routers, 10 fills and 10 pulls run at the same moment
    works: list[Callable[[], Any]] = [
        lambda pk=conversation.pk: routing.route_conversation(conversation_id=pk)
        for conversation in waiting[:30]
    ]
    works += [
        lambda user=user: routing.assign_waiting_for_agent(organization_id=org.pk, user_id=user.pk)
        for user in users
    ]
    works += [
        lambda user=user: routing.pull_next(user=user, organization_id=org.pk) for user in users
    ]
    outcomes = run_together(works)

    # Then nothing failed but full agents and empty lines, every agent is exactly full
    # (30 places for 40 conversations), and no conversation was assigned twice
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert {code(o) for o in failures} <= {"inbox.agent_at_capacity", "inbox.nothing_waiting"}
    loads = SupportAgent.objects.filter(user__in=users).values_list("open_count", flat=True)
    assert list(loads) == [3] * 10
    assert set(assigned_once(line).values()) == {1}
    assert sum(assigned_once(line).values()) == 30
    assert Conversation.objects.filter(queue=line, waiting_since__isnull=False).count() == 10
    assert_counts_are_true(users)


def test_transfers_and_pulls_crossing_between_two_agents_do_not_deadlock() -> None:
    # Given two agents each holding conversations and both pulling while conversations are
    # transferred between them in both directions
    org, line, users = team(2, capacity=20)
    a, b = users
    of_a = [f.conversation(line, who=f.contact(org), assignee=a) for _ in range(5)]
    of_b = [f.conversation(line, who=f.contact(org), assignee=b) for _ in range(5)]
    for _ in range(6):
        f.conversation(line, who=f.contact(org))

    works: list[Callable[[], Any]] = [
        lambda c=c: routing.assign_to(conversation=c, user_id=b.pk, actor_id=None) for c in of_a
    ]
    works += [
        lambda c=c: routing.assign_to(conversation=c, user_id=a.pk, actor_id=None) for c in of_b
    ]
    works += [lambda: routing.pull_next(user=a, organization_id=org.pk)] * 3
    works += [lambda: routing.pull_next(user=b, organization_id=org.pk)] * 3

    # When they all run at once
    outcomes = run_together(works)

    # Then every one succeeded, and the counts are the truth
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert {c.pk for c in of_a} == set(
        Conversation.objects.filter(pk__in=[c.pk for c in of_a]).values_list("pk", flat=True)
    )
    assert Conversation.objects.filter(pk__in=[c.pk for c in of_a], assignee=b).count() == 5
    assert Conversation.objects.filter(pk__in=[c.pk for c in of_b], assignee=a).count() == 5
    assert SupportAgent.objects.get(user=a).open_count == 8
    assert SupportAgent.objects.get(user=b).open_count == 8
    assert_counts_are_true(users)


def test_two_requeue_passes_at_once_requeue_each_conversation_once() -> None:
    # Given 8 conversations whose assignee let them wait past the deadline, one other agent
    org, line, users = team(2, strategy="round_robin", capacity=10)
    slow, other = users
    late = [f.conversation(line, who=f.contact(org)) for _ in range(8)]
    for conversation in late:
        routing.assign_to(conversation=conversation, user_id=slow.pk, actor_id=None, now=f.at(0))

    # When two workers run the pass at the same moment
    outcomes = run_together([lambda: routing.requeue_unanswered(now=f.at(500))] * 2)

    # Then 8 were re-queued between them, once each, all now with the other agent
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 8
    assert ConversationEvent.objects.filter(kind="requeued", conversation__in=late).count() == 8
    assert Conversation.objects.filter(pk__in=[c.pk for c in late], assignee=other).count() == 8
    assert_counts_are_true(users)
