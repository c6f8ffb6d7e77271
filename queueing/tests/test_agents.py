"""Agents: availability, capacity and skills, and presence from their sockets."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.helpers import committed, rows
from chat.models import PresenceConnection
from core.exceptions import ApplicationError
from queueing import agents, presence
from queueing.models import AgentAvailability, SupportAgent
from queueing.tests import inbox_factories as f
from queueing.tests.routing_helpers import spy_events, state
from realtime.registry import connection_listeners

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    return spy_events(monkeypatch)


def agent_row(user: Any) -> SupportAgent:
    return SupportAgent.objects.get(user=user)


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


# --- is_available ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("availability", "connected", "open_count", "expected"),
    [
        ("online", True, 4, True),
        ("online", True, 5, False),
        ("online", False, 0, False),
        ("busy", True, 0, False),
        ("offline", True, 0, False),
    ],
)
def test_available_means_online_connected_and_under_capacity(
    availability: str, connected: bool, open_count: int, expected: bool
) -> None:
    agent = SupportAgent(
        availability=availability, connected=connected, open_count=open_count, capacity=5
    )
    assert agents.is_available(agent) is expected


# --- agent_get_or_create -------------------------------------------------------------------------


def test_an_agent_row_is_created_once_connected_if_a_socket_is_open() -> None:
    # Given an agent with an open socket and an admin without one
    org = f.organization()
    agent = f.member(org)
    admin = f.member(org, role=Role.ORG_ADMIN)
    PresenceConnection.objects.create(user=agent, channel_name="socket-1")

    # When their rows are asked for twice
    first = agents.agent_get_or_create(organization_id=org.pk, user_id=agent.pk)
    again = agents.agent_get_or_create(organization_id=org.pk, user_id=agent.pk)
    other = agents.agent_get_or_create(organization_id=org.pk, user_id=admin.pk)

    # Then one row each, offline with the default capacity, connected per their sockets
    assert first.pk == again.pk
    assert (first.availability, first.capacity, first.connected) == ("offline", 5, True)
    assert (other.availability, other.connected) == ("offline", False)
    assert SupportAgent.objects.count() == 2


def test_viewers_and_outsiders_have_no_agent_row() -> None:
    org = f.organization()
    for user in (f.member(org, role=Role.VIEWER), f.member(f.organization())):
        with pytest.raises(ApplicationError) as refused:
            agents.agent_get_or_create(organization_id=org.pk, user_id=user.pk)
        assert (refused.value.code, refused.value.status_code) == ("inbox.agent_not_found", 404)
    assert SupportAgent.objects.count() == 0


# --- agent_availability_set ----------------------------------------------------------------------


def test_going_online_fills_free_capacity(events: list[Any]) -> None:
    # Given an offline, connected agent with room for 2 and three conversations waiting
    org = f.organization()
    line = f.queue(org)
    user = f.agent(org, line, capacity=2, online=False)
    SupportAgent.objects.filter(user=user).update(connected=True)
    waiting = [f.conversation(line, who=f.contact(org), waiting_since=f.at(n)) for n in range(3)]

    # When they go online
    with committed():
        agent = agents.agent_availability_set(
            user=user, organization_id=org.pk, availability="online"
        )

    # Then they are online and got the two oldest conversations
    assert agent.availability == "online"
    assert [state(c)["assignee_id"] for c in waiting] == [user.pk, user.pk, None]
    assert agent_row(user).open_count == 2
    assert events[0] == ("supervisor_changed", org.pk)


def test_going_busy_or_offline_fills_nothing(events: list[Any]) -> None:
    org = f.organization()
    line = f.queue(org)
    user = f.agent(org, line)
    conversation = f.conversation(line)
    with committed():
        agents.agent_availability_set(user=user, organization_id=org.pk, availability="busy")
    assert agent_row(user).availability == "busy"
    assert state(conversation)["assignee_id"] is None
    assert events == [("supervisor_changed", org.pk)]


def test_setting_the_same_availability_again_announces_nothing(events: list[Any]) -> None:
    org = f.organization()
    user = f.agent(org)
    agents.agent_availability_set(user=user, organization_id=org.pk, availability="online")
    assert events == []


def test_an_unknown_availability_is_refused() -> None:
    org = f.organization()
    user = f.agent(org)
    before = rows(SupportAgent)
    with pytest.raises(ApplicationError) as refused:
        agents.agent_availability_set(user=user, organization_id=org.pk, availability="away")
    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        "inbox.invalid_availability",
        400,
        {"choices": ["online", "busy", "offline"]},
    )
    assert rows(SupportAgent) == before


# --- agent_update --------------------------------------------------------------------------------


def test_raising_capacity_fills_the_new_room_and_lowering_takes_nothing(
    events: list[Any],
) -> None:
    # Given a full agent (capacity 1) and two conversations waiting
    org = f.organization()
    line = f.queue(org)
    admin = f.member(org, role=Role.ORG_ADMIN)
    user = f.agent(org, line, capacity=1)
    f.conversation(line, who=f.contact(org), assignee=user)
    waiting = [f.conversation(line, who=f.contact(org), waiting_since=f.at(n)) for n in range(2)]

    # When an admin raises their capacity to 2, and sets skills
    with committed():
        agent = agents.agent_update(
            actor=admin,
            organization_id=org.pk,
            user_id=user.pk,
            capacity=2,
            skills=[" Billing ", "vip", "billing", ""],
        )

    # Then the oldest waiting is theirs and the skills are clean
    assert (agent.capacity, agent.skills) == (2, ["billing", "vip"])
    assert [state(c)["assignee_id"] for c in waiting] == [user.pk, None]
    assert agent_row(user).open_count == 2
    assert events[0] == ("supervisor_changed", org.pk)

    # And lowering it to 0 takes nothing away
    with committed():
        agents.agent_update(actor=admin, organization_id=org.pk, user_id=user.pk, capacity=0)
    assert (agent_row(user).capacity, agent_row(user).open_count) == (0, 2)


def test_only_org_admins_update_agents() -> None:
    org = f.organization()
    user = f.agent(org)
    before = rows(SupportAgent)
    for actor in (user, f.member(org, role=Role.VIEWER), f.member(f.organization())):
        with pytest.raises(ApplicationError) as refused:
            agents.agent_update(actor=actor, organization_id=org.pk, user_id=user.pk, capacity=9)
        assert (refused.value.code, refused.value.status_code) == ("inbox.permission_denied", 403)
    assert rows(SupportAgent) == before


@pytest.mark.parametrize(
    ("fields", "code", "extra"),
    [
        ({"capacity": -1}, "inbox.invalid_capacity", {"min": 0, "max": 500}),
        ({"capacity": 501}, "inbox.invalid_capacity", {"min": 0, "max": 500}),
        ({"capacity": True}, "inbox.invalid_capacity", {"min": 0, "max": 500}),
        ({"skills": "billing"}, "inbox.invalid_skills", {"max_skills": 30, "max_length": 50}),
        ({"skills": [1]}, "inbox.invalid_skills", {"max_skills": 30, "max_length": 50}),
        ({"skills": ["x" * 51]}, "inbox.invalid_skills", {"max_skills": 30, "max_length": 50}),
        (
            {"skills": [f"s{n}" for n in range(31)]},
            "inbox.invalid_skills",
            {"max_skills": 30, "max_length": 50},
        ),
    ],
)
def test_invalid_capacity_or_skills_are_refused(
    fields: dict[str, Any], code: str, extra: dict[str, Any]
) -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    user = f.agent(org)
    before = rows(SupportAgent)
    with pytest.raises(ApplicationError) as refused:
        agents.agent_update(actor=admin, organization_id=org.pk, user_id=user.pk, **fields)
    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        code,
        400,
        extra,
    )
    assert rows(SupportAgent) == before


def test_updating_a_non_agent_is_not_found() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    viewer = f.member(org, role=Role.VIEWER)
    with pytest.raises(ApplicationError) as refused:
        agents.agent_update(actor=admin, organization_id=org.pk, user_id=viewer.pk, capacity=3)
    assert refused.value.code == "inbox.agent_not_found"


# --- Presence ------------------------------------------------------------------------------------


def test_the_presence_listener_is_registered() -> None:
    presence.register()
    assert (presence.on_connect, presence.on_disconnect) in [
        (listener.on_connect, listener.on_disconnect) for listener in connection_listeners()
    ]


def test_a_socket_opening_connects_the_agent_and_fills_them(events: list[Any]) -> None:
    # Given an online agent whose socket closed long ago (disconnected), a conversation waiting
    org = f.organization()
    line = f.queue(org)
    user = f.agent(org, line)
    SupportAgent.objects.filter(user=user).update(connected=False, disconnected_at=later(-600))
    conversation = f.conversation(line)

    # When a socket opens
    with committed():
        presence.on_connect(user.pk, "socket-1")

    # Then they are connected, without a countdown, and got the conversation
    agent = agent_row(user)
    assert (agent.connected, agent.disconnected_at) == (True, None)
    assert state(conversation)["assignee_id"] == user.pk
    assert events[0] == ("supervisor_changed", org.pk)


def test_reconnecting_before_the_sweep_only_clears_the_countdown(events: list[Any]) -> None:
    org = f.organization()
    line = f.queue(org)
    user = f.agent(org, line)
    SupportAgent.objects.filter(user=user).update(disconnected_at=later(-5))
    conversation = f.conversation(line)
    with committed():
        presence.on_connect(user.pk, "socket-2")
    assert agent_row(user).disconnected_at is None
    # (they never stopped being connected, so nothing was filled on their behalf)
    assert state(conversation)["assignee_id"] is None
    assert events == [("supervisor_changed", org.pk)]


def test_a_socket_of_someone_connected_changes_nothing(events: list[Any]) -> None:
    org = f.organization()
    user = f.agent(org)
    before = rows(SupportAgent)
    presence.on_connect(user.pk, "socket-1")
    presence.on_connect(f.member(org).pk, "socket-2")
    assert rows(SupportAgent) == before
    assert events == []


def test_closing_the_last_socket_starts_the_countdown_and_the_sweep_disconnects(
    events: list[Any], settings: Any
) -> None:
    # Given a connected agent with two sockets (60 s grace)
    settings.INBOX_OFFLINE_AFTER_SECONDS = 60
    org = f.organization()
    user = f.agent(org, f.queue(org))
    PresenceConnection.objects.create(user=user, channel_name="tab-1")
    PresenceConnection.objects.create(user=user, channel_name="tab-2")

    # When one closes, nothing changes
    presence.on_disconnect(user.pk, "tab-1")
    PresenceConnection.objects.filter(channel_name="tab-1").delete()
    assert agent_row(user).disconnected_at is None

    # When the last closes, the countdown starts but they stay connected
    closed_at = later(0)
    agents.agent_presence_lost(user_id=user.pk, now=closed_at)
    PresenceConnection.objects.filter(channel_name="tab-2").delete()
    assert (agent_row(user).connected, agent_row(user).disconnected_at) == (True, closed_at)

    # Then a sweep within the grace keeps them; one past it disconnects them, once
    assert agents.agents_sweep(now=closed_at + datetime.timedelta(seconds=59)) == 0
    assert agent_row(user).connected is True
    assert agents.agents_sweep(now=closed_at + datetime.timedelta(seconds=60)) == 1
    assert agent_row(user).connected is False
    assert agents.agents_sweep(now=closed_at + datetime.timedelta(seconds=61)) == 0
    assert events == [("supervisor_changed", org.pk)]


def test_on_disconnect_of_the_last_socket_records_the_moment() -> None:
    org = f.organization()
    user = f.agent(org)
    PresenceConnection.objects.create(user=user, channel_name="only")
    before = timezone.now()
    presence.on_disconnect(user.pk, "only")
    lost = agent_row(user).disconnected_at
    assert lost is not None and before <= lost <= timezone.now()


def test_the_sweep_starts_the_countdown_for_agents_whose_heartbeats_stopped(
    settings: Any,
) -> None:
    # Given a connected agent whose socket stopped beating (a server died) and one whose
    # socket is alive, both last touched long ago
    settings.INBOX_OFFLINE_AFTER_SECONDS = 60
    settings.PRESENCE_TIMEOUT_SECONDS = 90
    org = f.organization()
    silent = f.agent(org)
    alive = f.agent(org)
    PresenceConnection.objects.create(user=silent, channel_name="dead", last_seen_at=later(-900))
    PresenceConnection.objects.create(user=alive, channel_name="live", last_seen_at=later(500))
    SupportAgent.objects.update(updated_at=later(-1000))

    # When the sweep runs now, and again past the grace
    first = agents.agents_sweep(now=later(0))
    countdown = agent_row(silent).disconnected_at
    second = agents.agents_sweep(now=later(61))

    # Then the silent one got a countdown, then was disconnected; the live one never
    assert (first, second) == (0, 1)
    assert countdown is not None
    assert (agent_row(silent).connected, agent_row(alive).connected) == (False, True)
    assert agent_row(alive).disconnected_at is None


def test_a_disconnected_agent_receives_nothing_until_they_reconnect() -> None:
    org = f.organization()
    line = f.queue(org)
    user = f.agent(org, line)
    SupportAgent.objects.filter(user=user).update(connected=False)
    conversation = f.conversation(line)
    from queueing import routing

    assert routing.route_conversation(conversation_id=conversation.pk) is None
    with committed():
        presence.on_connect(user.pk, "back")
    assert state(conversation)["assignee_id"] == user.pk
    assert agent_row(user).availability == AgentAvailability.ONLINE
