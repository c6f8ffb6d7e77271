"""Routing fairness as properties: whatever happens in between, each strategy keeps its promise."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queueing import routing
from queueing.models import AgentAvailability, Conversation, ConversationStatus, SupportAgent
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _resolve(conversation_id: int) -> None:
    """Resolve a conversation as the inbox does: release the assignee, then save."""
    locked, _agents = routing.conversation_lock(conversation_id=conversation_id)
    routing.release_on_resolve(conversation=locked)
    locked.status = ConversationStatus.RESOLVED
    locked.save(update_fields=["status", "requeue_due_at"])


@EXAMPLES
@given(
    steady=st.integers(2, 4),
    flaky=st.integers(0, 2),
    steps=st.lists(st.tuples(st.booleans(), st.integers(0, 9)), min_size=1, max_size=25),
)
def test_round_robin_spreads_evenly_among_always_eligible_agents(
    steady: int, flaky: int, steps: list[tuple[bool, int]]
) -> None:
    # Given agents who are always available and others going busy and back at random
    org = f.organization()
    line = f.queue(org, strategy="round_robin")
    always = [f.agent(org, line, capacity=100) for _ in range(steady)]
    sometimes = [f.agent(org, line, capacity=100) for _ in range(flaky)]
    counts: Counter[int] = Counter()

    # When conversations arrive one by one between the toggles (same clock every time)
    for toggle, pick in steps:
        if toggle and sometimes:
            user = sometimes[pick % len(sometimes)]
            row = SupportAgent.objects.get(user=user)
            row.availability = (
                AgentAvailability.BUSY
                if row.availability == AgentAvailability.ONLINE
                else AgentAvailability.ONLINE
            )
            row.save(update_fields=["availability"])
        conversation = f.conversation(line, who=f.contact(org))
        assignee = routing.route_conversation(conversation_id=conversation.pk, now=f.at(0))
        assert assignee is not None
        counts[assignee] += 1

        # Then at every moment the always-available agents' counts differ by at most one
        steady_counts = [counts[user.pk] for user in always]
        assert max(steady_counts) - min(steady_counts) <= 1, steady_counts


@EXAMPLES
@given(
    size=st.integers(2, 5),
    steps=st.lists(
        st.one_of(
            st.just(("route", 0)),
            st.tuples(st.just("resolve"), st.integers(0, 50)),
            st.tuples(st.just("toggle"), st.integers(0, 4)),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_load_balance_never_picks_a_more_loaded_agent(
    size: int, steps: list[tuple[str, int]]
) -> None:
    # Given agents of capacity 3 in a load-balanced queue
    org = f.organization()
    line = f.queue(org, strategy="load_balance")
    users = [f.agent(org, line, capacity=3) for _ in range(size)]

    for number, (step, pick) in enumerate(steps):
        if step == "resolve":
            open_ones = list(
                Conversation.objects.filter(queue=line, assignee__isnull=False)
                .exclude(status=ConversationStatus.RESOLVED)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if open_ones:
                _resolve(open_ones[pick % len(open_ones)])
            continue
        if step == "toggle":
            row = SupportAgent.objects.get(user=users[pick % size])
            row.connected = not row.connected
            row.save(update_fields=["connected"])
            continue
        # When a conversation is routed
        eligible = {
            agent.user_id: agent.open_count
            for agent in SupportAgent.objects.filter(user__in=users)
            if agent.connected and agent.open_count < agent.capacity
        }
        conversation = f.conversation(line, who=f.contact(org))
        assignee = routing.route_conversation(conversation_id=conversation.pk, now=f.at(number))

        # Then it went to an eligible agent with no more open than any other eligible one
        # (nobody when none was eligible), and every count is the truth, within capacity
        if not eligible:
            assert assignee is None
        else:
            assert assignee in eligible
            assert eligible[assignee] == min(eligible.values())
        for agent in SupportAgent.objects.filter(user__in=users):
            real = Conversation.objects.filter(
                assignee_id=agent.user_id, status=ConversationStatus.OPEN
            ).count()
            assert agent.open_count == real <= agent.capacity


@EXAMPLES
@given(
    skills=st.lists(st.sets(st.sampled_from(["billing", "vip", "tech"])), min_size=1, max_size=4),
    labels=st.sets(st.sampled_from(["Billing", "VIP", "tech"])),
    loads=st.lists(st.integers(0, 2), min_size=4, max_size=4),
)
def test_skills_based_goes_to_someone_covering_every_label_when_anyone_does(
    skills: list[set[str]], labels: set[str], loads: list[int]
) -> None:
    # Given agents with random skills and loads
    org = f.organization()
    line = f.queue(org, strategy="skills_based")
    users = []
    for index, known in enumerate(skills):
        user = f.agent(org, line, capacity=5, skills=sorted(known))
        for _ in range(loads[index]):
            f.conversation(line, who=f.contact(org), assignee=user)
        users.append(user)
    wanted = {label.lower() for label in labels}
    covering = {user.pk for user, known in zip(users, skills, strict=True) if wanted <= known}
    load = {user.pk: SupportAgent.objects.get(user=user).open_count for user in users}

    # When a conversation with those labels is routed
    conversation = f.conversation(line, who=f.contact(org), labels=sorted(labels))
    assignee = routing.route_conversation(conversation_id=conversation.pk)

    # Then it went to the least loaded of those covering every label, or of everyone
    pool = covering or set(load)
    assert assignee in pool
    assert load[assignee] == min(load[pk] for pk in pool)
