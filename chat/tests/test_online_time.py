"""Online time from heartbeat sequences: sessions, merged tabs, gaps, days and their edges.

Heartbeats go through ``chat.presence.heartbeat`` (the socket's path) at chosen moments, so
each test reads as a timeline: ``beat(user, 30, active=False)`` is "30 seconds in, this tab
says the person is idle". PRESENCE_HEARTBEAT_SECONDS is 30 and PRESENCE_TIMEOUT_SECONDS 90.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import zoneinfo
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from chat import online_time, presence
from chat.models import OnlineDay, PresenceSession

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# A Monday, noon UTC (09:00 in São Paulo): far from any local midnight.
T0 = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


@pytest.fixture(autouse=True)
def _presence_timing(settings: Any) -> None:
    settings.PRESENCE_HEARTBEAT_SECONDS = 30
    settings.PRESENCE_TIMEOUT_SECONDS = 90


def at(seconds: float, start: datetime.datetime = T0) -> datetime.datetime:
    return start + datetime.timedelta(seconds=seconds)


def beat(
    user: User,
    seconds: float,
    *,
    active: bool = True,
    tab: str = "a",
    start: datetime.datetime = T0,
) -> None:
    presence.heartbeat(
        user_id=user.pk,
        channel_name=f"tab-{tab}-{user.pk}",
        active=active,
        visible=True,
        room_id=None,
        now=at(seconds, start),
    )


def sessions(user: User) -> list[tuple[Any, ...]]:
    return list(
        PresenceSession.objects.filter(user=user)
        .order_by("started_at")
        .values_list("started_at", "last_seen_at", "ended_at", "online_seconds", "active_seconds")
    )


def days(user: User) -> list[tuple[Any, ...]]:
    return list(
        OnlineDay.objects.filter(user=user)
        .order_by("day")
        .values_list("day", "online_seconds", "active_seconds", "first_seen_at", "last_seen_at")
    )


# --- the pure arithmetic -----------------------------------------------------------------------


def test_an_interval_is_credited_whole_up_to_the_timeout_and_not_beyond() -> None:
    assert online_time.credited_interval(last_seen_at=at(0), at=at(30)) == online_time.Interval(
        at(0), at(30)
    )
    assert online_time.credited_interval(last_seen_at=at(0), at=at(90)).seconds == 90  # type: ignore[union-attr]
    assert online_time.credited_interval(last_seen_at=at(0), at=at(90.5)) is None
    assert online_time.credited_interval(last_seen_at=at(30), at=at(30)) is None
    assert online_time.credited_interval(last_seen_at=at(30), at=at(10)) is None


def test_whole_seconds_add_up_without_drift() -> None:
    moments = [at(0.7), at(30.2), at(59.9), at(90.4)]

    pieces = [online_time.whole_seconds(a, b) for a, b in itertools.pairwise(moments)]

    assert sum(pieces) == online_time.whole_seconds(moments[0], moments[-1]) == 90


def test_an_interval_is_split_at_local_midnight() -> None:
    # 03:00 UTC is midnight in São Paulo (UTC-3).
    midnight = datetime.datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    interval = online_time.Interval(midnight - datetime.timedelta(seconds=20), at(10, midnight))

    parts = online_time.split_by_day(interval, SAO_PAULO)

    assert [(part.day, part.seconds) for part in parts] == [
        (datetime.date(2026, 3, 2), 20),
        (datetime.date(2026, 3, 3), 10),
    ]
    assert parts[0].end == parts[1].start == midnight


def test_the_merge_rule_counts_another_tab_active_within_one_heartbeat() -> None:
    def merged(this: bool, others: list[datetime.datetime | None]) -> bool:
        return online_time.merged_active(this_active=this, other_tabs_last_active=others, at=at(60))

    assert merged(True, []) is True
    assert merged(False, []) is False
    assert merged(False, [None]) is False
    assert merged(False, [at(30)]) is True
    assert merged(False, [at(29)]) is False


# --- sequences through the service -------------------------------------------------------------


def test_a_single_active_tab_is_online_and_active_the_whole_time() -> None:
    user = UserFactory()

    for second in (0, 30, 60, 90):
        beat(user, second)

    assert sessions(user) == [(at(0), at(90), None, 90, 90)]
    assert days(user) == [(T0.date(), 90, 90, at(0), at(90))]


def test_idle_heartbeats_count_as_online_but_not_active() -> None:
    user = UserFactory()

    beat(user, 0)
    beat(user, 30)
    beat(user, 60, active=False)
    beat(user, 90, active=False)

    assert sessions(user) == [(at(0), at(90), None, 90, 30)]
    assert days(user) == [(T0.date(), 90, 30, at(0), at(90))]


def test_two_tabs_feed_one_session_and_never_count_twice() -> None:
    user = UserFactory()

    # Tab a is where the person works; tab b sits in the background, reporting idle.
    for second in (0, 30, 60):
        beat(user, second, tab="a")
        beat(user, second + 10, tab="b", active=False)

    # 0..70 once (not 60 + 60), and all of it active: tab a was active within 30 s of
    # every idle report of tab b.
    assert sessions(user) == [(at(0), at(70), None, 70, 70)]
    assert days(user) == [(T0.date(), 70, 70, at(0), at(70))]


def test_another_tabs_activity_counts_only_within_one_heartbeat() -> None:
    user = UserFactory()

    beat(user, 0, tab="a")
    beat(user, 10, tab="b", active=False)
    beat(user, 40, tab="b", active=False)
    beat(user, 70, tab="b", active=False)

    # (0, 10] active (tab a 10 s ago); (10, 40] and (40, 70] idle (tab a 40 s and 70 s ago).
    assert sessions(user) == [(at(0), at(70), None, 70, 10)]


def test_heartbeats_of_two_tabs_at_the_same_moment_add_nothing_twice() -> None:
    user = UserFactory()

    beat(user, 0, tab="a")
    beat(user, 0, tab="b")
    beat(user, 30, tab="a")
    beat(user, 30, tab="b", active=False)

    assert sessions(user) == [(at(0), at(30), None, 30, 30)]


def test_a_silence_longer_than_the_timeout_closes_the_session_and_counts_nothing() -> None:
    user = UserFactory()

    beat(user, 0)
    beat(user, 30)
    beat(user, 200)
    beat(user, 230, active=False)

    assert sessions(user) == [
        (at(0), at(30), at(30), 30, 30),
        (at(200), at(230), None, 30, 0),
    ]
    assert days(user) == [(T0.date(), 60, 30, at(0), at(230))]


def test_a_gap_of_exactly_the_timeout_is_credited_and_one_second_more_is_not() -> None:
    kept, dropped = UserFactory(), UserFactory()

    beat(kept, 0)
    beat(kept, 90)
    beat(dropped, 0)
    beat(dropped, 91)

    assert sessions(kept) == [(at(0), at(90), None, 90, 90)]
    assert sessions(dropped) == [(at(0), at(0), at(0), 0, 0), (at(91), at(91), None, 0, 0)]


def test_the_sweep_closes_a_silent_session_at_its_last_heartbeat() -> None:
    user = UserFactory()
    beat(user, 0)
    beat(user, 30)

    presence.sweep_presence(now=at(121))
    beat(user, 130)

    assert sessions(user) == [(at(0), at(30), at(30), 30, 30), (at(130), at(130), None, 0, 0)]


def test_the_sweep_leaves_a_session_within_the_timeout_open() -> None:
    user = UserFactory()
    beat(user, 0)

    presence.sweep_presence(now=at(90))

    assert sessions(user) == [(at(0), at(0), None, 0, 0)]


def test_time_across_local_midnight_is_split_between_the_two_days_of_the_user() -> None:
    user = UserFactory(time_zone="America/Sao_Paulo")
    midnight = datetime.datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 00:00 in São Paulo

    beat(user, -20, start=midnight)
    beat(user, 10, start=midnight)
    beat(user, 40, start=midnight, active=False)

    assert days(user) == [
        (datetime.date(2026, 3, 2), 20, 20, at(-20, midnight), midnight),
        (datetime.date(2026, 3, 3), 40, 10, midnight, at(40, midnight)),
    ]
    assert sessions(user) == [(at(-20, midnight), at(40, midnight), None, 60, 30)]


def test_the_day_is_the_users_own_calendar_day() -> None:
    # 02:00 UTC on the 3rd is still the 2nd in São Paulo, already the 3rd in Lisbon.
    moment = datetime.datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    paulista = UserFactory(time_zone="America/Sao_Paulo")
    lisboeta = UserFactory(time_zone="Europe/Lisbon")

    beat(paulista, 0, start=moment)
    beat(lisboeta, 0, start=moment)

    assert [row[0] for row in days(paulista)] == [datetime.date(2026, 3, 2)]
    assert [row[0] for row in days(lisboeta)] == [datetime.date(2026, 3, 3)]


def test_first_and_last_seen_span_every_session_of_the_day() -> None:
    user = UserFactory()

    beat(user, 0)
    beat(user, 30)
    beat(user, 3600)  # an hour later: a new session
    beat(user, 3630, active=False)

    assert days(user) == [(T0.date(), 60, 30, at(0), at(3630))]
    assert len(sessions(user)) == 2


def test_closing_the_socket_counts_the_time_since_its_last_heartbeat() -> None:
    user = UserFactory()
    beat(user, 0)

    presence.connection_close(user_id=user.pk, channel_name=f"tab-a-{user.pk}", now=at(20))

    assert sessions(user) == [(at(0), at(20), None, 20, 20)]


def test_closing_the_socket_long_after_its_last_heartbeat_opens_no_session() -> None:
    user = UserFactory()
    beat(user, 0)

    presence.connection_close(user_id=user.pk, channel_name=f"tab-a-{user.pk}", now=at(500))

    assert sessions(user) == [(at(0), at(0), at(0), 0, 0)]


# --- concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_heartbeats_of_many_tabs_never_lose_time() -> None:
    user = UserFactory()
    tabs, beats = 4, 15
    barrier = threading.Barrier(tabs)
    errors: list[BaseException] = []

    def tab(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(beats):
                # The tabs interleave: tab 0 at 0, 4, 8...; tab 1 at 1, 5, 9...
                online_time.record_heartbeat(
                    user_id=user.pk, at=at(n * tabs + number), active=True, time_zone="UTC"
                )
        except BaseException as exc:  # recorded for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(number,)) for number in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Whatever order the heartbeats were applied in, one session holds exactly the stretch it
    # spans (a lost update would leave less), and the day holds the same.
    assert errors == []
    [session] = PresenceSession.objects.filter(user=user)
    span = online_time.whole_seconds(session.started_at, session.last_seen_at)
    assert session.online_seconds == session.active_seconds == span
    assert session.last_seen_at == at((beats - 1) * tabs + tabs - 1)
    [day] = OnlineDay.objects.filter(user=user)
    assert (day.online_seconds, day.active_seconds) == (span, span)
    assert (day.first_seen_at, day.last_seen_at) == (session.started_at, session.last_seen_at)
