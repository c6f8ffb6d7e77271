"""Presence: states from heartbeats, do-not-disturb, status, and events only on change."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, UserFactory
from chat import presence
from chat.models import PresenceConnection, UserChatSettings
from chat.tests.helpers import channel, committed, events_named, team

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# Monday 2 March 2026, noon UTC (09:00 in São Paulo).
T0 = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _presence_timing(settings: Any) -> None:
    settings.PRESENCE_HEARTBEAT_SECONDS = 30
    settings.PRESENCE_TIMEOUT_SECONDS = 90


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def beat(
    user: User,
    seconds: float = 0,
    *,
    active: bool = True,
    visible: bool = True,
    room: int | None = None,
    tab: str = "a",
) -> None:
    """A heartbeat in its own committed transaction, as each socket frame is."""
    with committed():
        presence.heartbeat(
            user_id=user.pk,
            channel_name=f"tab-{tab}-{user.pk}",
            active=active,
            visible=visible,
            room_id=room,
            now=at(seconds),
        )


def close(user: User, seconds: float, *, tab: str = "a") -> None:
    with committed():
        presence.connection_close(
            user_id=user.pk, channel_name=f"tab-{tab}-{user.pk}", now=at(seconds)
        )


def sweep(seconds: float) -> int:
    with committed():
        return presence.sweep_presence(now=at(seconds))


def update(user: User, **data: Any) -> None:
    with committed():
        presence.chat_settings_update(user=user, data=data)


def state(user: User, seconds: float) -> str:
    return presence.states_for_users([user.pk], now=at(seconds))[user.pk]


def chat_settings(user: User, **fields: Any) -> UserChatSettings:
    return UserChatSettings.objects.create(user=user, **fields)


def presence_events(published: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    return events_named(published, "chat.presence.changed")


# --- states ------------------------------------------------------------------------------------


def test_a_user_without_a_socket_is_offline() -> None:
    assert state(UserFactory(), 0) == "offline"


def test_an_open_socket_without_a_heartbeat_yet_is_away() -> None:
    user = UserFactory()

    presence.connection_open(user_id=user.pk, channel_name="tab-1", now=at(0))

    assert state(user, 1) == "away"
    assert PresenceConnection.objects.filter(user=user, channel_name="tab-1").count() == 1


def test_an_active_heartbeat_is_online_and_an_idle_one_is_away() -> None:
    user = UserFactory()

    beat(user, 0)
    online = state(user, 1)
    beat(user, 30, active=False)

    assert (online, state(user, 31)) == ("online", "away")


def test_one_active_tab_among_idle_ones_keeps_the_user_online() -> None:
    user = UserFactory()

    beat(user, 0, tab="a", active=False)
    beat(user, 5, tab="b", active=True)
    beat(user, 10, tab="c", active=False)

    assert state(user, 11) == "online"


def test_a_user_whose_heartbeats_stopped_is_offline_after_the_timeout() -> None:
    user = UserFactory()

    beat(user, 0)

    assert (state(user, 90), state(user, 91)) == ("online", "offline")


def test_a_tab_active_longer_ago_than_the_idle_window_is_away(settings: Any) -> None:
    settings.PRESENCE_TIMEOUT_SECONDS = 3600
    user = UserFactory()

    beat(user, 0)

    assert (state(user, 299), state(user, 300)) == ("online", "away")


def test_states_for_many_users_take_one_query(django_assert_num_queries: Any) -> None:
    online, away, offline = UserFactory(), UserFactory(), UserFactory()
    beat(online, 0)
    beat(away, 0, active=False)

    with django_assert_num_queries(1):
        states = presence.states_for_users([online.pk, away.pk, offline.pk], now=at(1))

    assert states == {online.pk: "online", away.pk: "away", offline.pk: "offline"}


# --- looking at a room -------------------------------------------------------------------------


def test_a_visible_tab_showing_a_room_of_the_user_is_looking_at_it() -> None:
    people = team()
    room = channel(people.organization, members=[people.agent])

    beat(people.agent, 0, room=room.pk)

    assert presence.user_is_viewing_room(user_id=people.agent.pk, room_id=room.pk, now=at(1))


def test_a_hidden_tab_or_a_stale_one_is_not_looking() -> None:
    people = team()
    room = channel(people.organization, members=[people.agent, people.agent2])

    beat(people.agent, 0, room=room.pk, visible=False)
    beat(people.agent2, 0, room=room.pk)

    assert not presence.user_is_viewing_room(user_id=people.agent.pk, room_id=room.pk, now=at(1))
    assert not presence.user_is_viewing_room(user_id=people.agent2.pk, room_id=room.pk, now=at(91))


def test_a_room_the_user_is_not_a_member_of_is_not_recorded() -> None:
    people = team()
    foreign = channel(people.other_organization, members=[people.outsider])
    not_joined = channel(people.organization, members=[people.agent2])

    beat(people.agent, 0, room=foreign.pk)
    beat(people.agent, 1, room=not_joined.pk, tab="b")

    assert list(
        PresenceConnection.objects.filter(user=people.agent).values_list(
            "viewing_room_id", flat=True
        )
    ) == [None, None]
    assert not presence.user_is_viewing_room(
        user_id=people.agent.pk, room_id=not_joined.pk, now=at(2)
    )


# --- do not disturb ----------------------------------------------------------------------------


def test_no_settings_is_never_do_not_disturb() -> None:
    assert presence.dnd_active(None, now=T0, time_zone="UTC") is False


def test_do_not_disturb_until_a_moment_ends_at_that_moment() -> None:
    settings_row = UserChatSettings(dnd_until=at(60))

    assert presence.dnd_active(settings_row, now=at(59), time_zone="UTC") is True
    assert presence.dnd_active(settings_row, now=at(60), time_zone="UTC") is False


def test_a_weekly_schedule_is_read_in_the_users_time_zone() -> None:
    # Mondays 09:00-18:00. At 12:00 UTC it is 09:00 in São Paulo: the period just began there,
    # while for a user in UTC it is noon.
    settings_row = UserChatSettings(dnd_schedule=[{"day": 0, "start": "09:00", "end": "18:00"}])
    before_nine_in_sao_paulo = at(-1)

    assert presence.dnd_active(settings_row, now=T0, time_zone="America/Sao_Paulo") is True
    assert (
        presence.dnd_active(
            settings_row, now=before_nine_in_sao_paulo, time_zone="America/Sao_Paulo"
        )
        is False
    )
    assert presence.dnd_active(settings_row, now=before_nine_in_sao_paulo, time_zone="UTC") is True
    # 18:00 is the end, excluded; Tuesday is not in the schedule.
    assert presence.dnd_active(settings_row, now=at(6 * 3600), time_zone="UTC") is False
    assert presence.dnd_active(settings_row, now=at(24 * 3600), time_zone="UTC") is False


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime.datetime(2026, 3, 6, 21, 59, tzinfo=UTC), False),  # Friday 21:59
        (datetime.datetime(2026, 3, 6, 22, 0, tzinfo=UTC), True),  # Friday 22:00
        (datetime.datetime(2026, 3, 6, 23, 59, tzinfo=UTC), True),
        (datetime.datetime(2026, 3, 7, 0, 0, tzinfo=UTC), True),  # Saturday after midnight
        (datetime.datetime(2026, 3, 7, 6, 59, tzinfo=UTC), True),
        (datetime.datetime(2026, 3, 7, 7, 0, tzinfo=UTC), False),  # Saturday 07:00
        (datetime.datetime(2026, 3, 5, 23, 0, tzinfo=UTC), False),  # Thursday night
        (datetime.datetime(2026, 3, 6, 6, 0, tzinfo=UTC), False),  # Friday morning
    ],
)
def test_a_schedule_crossing_midnight_covers_the_night_into_the_next_day(
    moment: datetime.datetime, expected: bool
) -> None:
    settings_row = UserChatSettings(dnd_schedule=[{"day": 4, "start": "22:00", "end": "07:00"}])

    assert presence.dnd_active(settings_row, now=moment, time_zone="UTC") is expected


def test_a_sunday_night_schedule_continues_into_monday() -> None:
    settings_row = UserChatSettings(dnd_schedule=[{"day": 6, "start": "23:00", "end": "08:00"}])

    assert presence.dnd_active(
        settings_row, now=datetime.datetime(2026, 3, 2, 7, 30, tzinfo=UTC), time_zone="UTC"
    )


def test_a_schedule_to_the_end_of_the_day_and_malformed_entries() -> None:
    settings_row = UserChatSettings(
        dnd_schedule=[
            {"day": 0, "start": "20:00", "end": "24:00"},
            {"day": 0, "start": "7:00", "end": "12:30"},  # malformed: covers nothing
            "nonsense",
        ]
    )

    assert presence.dnd_active(settings_row, now=at(8 * 3600 + 3599), time_zone="UTC") is True
    assert presence.dnd_active(settings_row, now=at(-3600), time_zone="UTC") is False


# --- status ------------------------------------------------------------------------------------


def test_an_expired_status_is_no_status() -> None:
    user = UserFactory()
    chat_settings(user, status_text="Lunch", status_emoji="pizza", status_expires_at=at(60))

    before = presence.presence_for_users([user.pk], now=at(59))[user.pk]
    after = presence.presence_for_users([user.pk], now=at(60))[user.pk]

    assert (before["status_text"], before["status_emoji"]) == ("Lunch", "pizza")
    assert (after["status_text"], after["status_emoji"]) == ("", "")


# --- events only on change ---------------------------------------------------------------------


def test_the_first_heartbeat_tells_every_organization_of_the_user(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    membership = MembershipFactory(role=Role.AGENT)
    second = MembershipFactory(user=membership.user, role=Role.VIEWER)
    user = membership.user

    beat(user, 0)

    payload = {
        "user_id": user.pk,
        "state": "online",
        "status_text": "",
        "status_emoji": "",
        "dnd": False,
    }
    assert sorted(presence_events(published)) == sorted(
        [
            (f"chat.presence.{membership.organization_id}", payload),
            (f"chat.presence.{second.organization_id}", payload),
        ]
    )


def test_heartbeats_that_change_nothing_publish_nothing(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    user = MembershipFactory().user

    with committed():
        presence.connection_open(user_id=user.pk, channel_name=f"tab-a-{user.pk}", now=at(0))
    beat(user, 0)
    beat(user, 30)
    beat(user, 35, tab="b", active=False)
    beat(user, 60, active=False)
    beat(user, 90, active=False)
    close(user, 95, tab="b")
    close(user, 100)

    assert [data["state"] for _, data in presence_events(published)] == [
        "online",
        "away",
        "offline",
    ]


def test_closing_one_of_two_tabs_keeps_the_user_online_without_an_event(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    user = MembershipFactory().user
    beat(user, 0, tab="a")
    beat(user, 1, tab="b")
    published.clear()

    close(user, 5, tab="a")

    assert presence_events(published) == []
    assert state(user, 6) == "online"


def test_a_status_or_do_not_disturb_change_is_published_and_a_sound_change_is_not(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    user = MembershipFactory().user
    in_an_hour = datetime.datetime.now(UTC) + datetime.timedelta(hours=1)

    update(user, dnd_until=in_an_hour)
    update(user, sound_enabled=False)
    update(user, status_text="In a meeting")
    update(user, status_text="In a meeting")

    assert [
        (data["state"], data["dnd"], data["status_text"]) for _, data in presence_events(published)
    ] == [("offline", True, ""), ("offline", True, "In a meeting")]
    assert UserChatSettings.objects.get(user=user).sound_enabled is False


def test_a_change_that_never_committed_is_not_remembered_as_told(
    published: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    user = MembershipFactory().user

    # The after-commit callbacks never run: the event never went out, so the next heartbeat
    # must still tell it.
    with django_capture_on_commit_callbacks(execute=False):
        presence.heartbeat(
            user_id=user.pk, channel_name="tab", active=True, visible=True, room_id=None, now=at(0)
        )
    beat(user, 30)

    assert [data["state"] for _, data in presence_events(published)] == ["online"]


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_forgets_dead_sockets_and_publishes_offline_once(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    user = MembershipFactory().user
    alive = MembershipFactory().user
    beat(user, 0)
    beat(alive, 0)
    beat(alive, 60)
    published.clear()

    first = sweep(91)
    second = sweep(92)

    assert (first, second) == (1, 0)
    assert [(data["user_id"], data["state"]) for _, data in presence_events(published)] == [
        (user.pk, "offline")
    ]
    assert list(PresenceConnection.objects.values_list("user_id", flat=True)) == [alive.pk]


def test_the_sweep_publishes_a_do_not_disturb_schedule_starting(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    user = MembershipFactory(user=UserFactory(time_zone="UTC")).user
    # Monday 12:01 to 13:00 UTC.
    chat_settings(user, dnd_schedule=[{"day": 0, "start": "12:01", "end": "13:00"}])
    beat(user, 0)
    published.clear()

    before = sweep(30)
    beat(user, 59)
    started = sweep(60)

    assert (before, started) == (0, 1)
    assert [(data["state"], data["dnd"]) for _, data in presence_events(published)] == [
        ("online", True)
    ]


def test_the_sweep_with_nobody_connected_does_nothing(
    published: list[tuple[str, dict[str, Any]]],
) -> None:
    MembershipFactory()

    assert sweep(0) == 0

    assert published == []


def test_the_sweep_task_runs_the_sweep() -> None:
    from chat.tasks import sweep_presence

    user = UserFactory()
    PresenceConnection.objects.create(
        user=user,
        channel_name="dead",
        last_seen_at=datetime.datetime.now(UTC) - datetime.timedelta(hours=1),
    )

    sweep_presence.delay()

    assert PresenceConnection.objects.count() == 0


def test_settings_for_creates_the_row_once() -> None:
    user = UserFactory()

    first = presence.settings_for(user)
    again = presence.settings_for(user)

    assert first.pk == again.pk
    assert (first.sound_enabled, first.dnd_schedule, first.status_text) == (True, [], "")
