"""The presence API: my chat settings, who is online, online time; and who may ask what."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from chat import presence
from chat.models import OnlineDay, UserChatSettings
from chat.tests.helpers import Team, assert_error, client_for, member, rows, team

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "outsider", "viewer", "agent", "admin")


@pytest.fixture
def people() -> Team:
    return team()


def actor(people: Team, name: str) -> User | None:
    return None if name == "anonymous" else getattr(people, name)


def online_day(user: User, day: datetime.date, online: int = 3600, active: int = 1800) -> OnlineDay:
    start = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    return OnlineDay.objects.create(
        user=user,
        day=day,
        online_seconds=online,
        active_seconds=active,
        first_seen_at=start,
        last_seen_at=start + datetime.timedelta(seconds=online),
    )


def today_in(user: User) -> datetime.date:
    return timezone.now().astimezone(presence.zone(user.time_zone)).date()


# --- the permission matrix ---------------------------------------------------------------------

MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    # method, url, body, expected status for each actor in ACTORS order
    ("get", "/api/v1/me/chat-settings/", None, (401, 200, 200, 200, 200)),
    ("patch", "/api/v1/me/chat-settings/", {"status_text": "Hi"}, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/organizations/{org}/presence/", None, (401, 404, 200, 200, 200)),
    ("get", "/api/v1/organizations/{org}/online-time/", None, (401, 404, 200, 200, 200)),
    (
        "get",
        "/api/v1/organizations/{org}/online-time/?user={agent}",
        None,
        (401, 404, 404, 200, 200),
    ),
    (
        "get",
        "/api/v1/organizations/{org}/online-time/?user={outsider}",
        None,
        (401, 404, 404, 404, 404),
    ),
    ("get", "/api/v1/organizations/999999/presence/", None, (401, 404, 404, 404, 404)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX)
def test_the_presence_permission_matrix(
    people: Team, method: str, url: str, body: Any, expected: tuple[int, ...]
) -> None:
    url = url.format(org=people.organization.pk, agent=people.agent.pk, outsider=people.outsider.pk)

    got = tuple(
        getattr(client_for(actor(people, name)), method)(url, body, format="json").status_code
        for name in ACTORS
    )

    assert got == expected


def test_anonymous_callers_get_the_error_shape(people: Team) -> None:
    assert_error(client_for(None).get("/api/v1/me/chat-settings/"), 401, "not_authenticated")


# --- me/chat-settings --------------------------------------------------------------------------


def test_my_chat_settings_start_with_the_defaults(people: Team) -> None:
    response = client_for(people.agent).get("/api/v1/me/chat-settings/")

    assert response.status_code == 200
    assert response.json() == {
        "status_text": "",
        "status_emoji": "",
        "status_expires_at": None,
        "dnd_until": None,
        "dnd_schedule": [],
        "sound_enabled": True,
        "desktop_enabled": True,
        "email_enabled": True,
        "dnd_active": False,
    }


def test_i_set_a_status_do_not_disturb_and_my_alerts(people: Team) -> None:
    in_an_hour = timezone.now() + datetime.timedelta(hours=1)
    schedule = [
        {"day": 4, "start": "22:00", "end": "07:00"},
        {"day": 5, "start": "00:00", "end": "24:00"},
    ]

    response = client_for(people.agent).patch(
        "/api/v1/me/chat-settings/",
        {
            "status_text": "  Visiting a client  ",
            "status_emoji": "pizza",
            "status_expires_at": in_an_hour.isoformat(),
            "dnd_until": in_an_hour.isoformat(),
            "dnd_schedule": schedule,
            "sound_enabled": False,
            "email_enabled": False,
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["status_text"], body["status_emoji"]) == ("Visiting a client", "pizza")
    assert (body["dnd_active"], body["dnd_schedule"], body["sound_enabled"]) == (
        True,
        schedule,
        False,
    )
    stored = UserChatSettings.objects.get(user=people.agent)
    assert (stored.status_text, stored.dnd_schedule, stored.email_enabled) == (
        "Visiting a client",
        schedule,
        False,
    )
    assert stored.desktop_enabled is True


def test_clearing_do_not_disturb(people: Team) -> None:
    UserChatSettings.objects.create(
        user=people.agent, dnd_until=timezone.now() + datetime.timedelta(hours=1)
    )

    response = client_for(people.agent).patch(
        "/api/v1/me/chat-settings/", {"dnd_until": None}, format="json"
    )

    assert (response.status_code, response.json()["dnd_active"]) == (200, False)


def test_an_expired_status_reads_as_no_status(people: Team) -> None:
    UserChatSettings.objects.create(
        user=people.agent,
        status_text="Lunch",
        status_emoji="pizza",
        status_expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )

    body = client_for(people.agent).get("/api/v1/me/chat-settings/").json()

    assert (body["status_text"], body["status_emoji"], body["status_expires_at"]) == ("", "", None)


def _past() -> str:
    return (timezone.now() - datetime.timedelta(minutes=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status_text": "x" * 101}, "status_text"),
        ({"status_emoji": "not-an-emoji"}, "status_emoji"),
        ({"dnd_until": "past"}, "dnd_until"),
        ({"status_expires_at": "past"}, "status_expires_at"),
        ({"dnd_until": "tomorrow"}, "dnd_until"),
        ({"dnd_schedule": [{"day": 1, "start": "09:00", "end": "18:00"}] * 15}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 7, "start": "09:00", "end": "18:00"}]}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 1, "start": "9:00", "end": "18:00"}]}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 1, "start": "24:00", "end": "18:00"}]}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 1, "start": "09:00", "end": "18:60"}]}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 1, "start": "09:00", "end": "09:00"}]}, "dnd_schedule"),
        ({"dnd_schedule": [{"day": 1, "start": "09:00"}]}, "dnd_schedule"),
        (
            {"dnd_schedule": [{"day": 1, "start": "09:00", "end": "18:00", "tz": "x"}]},
            "dnd_schedule",
        ),
        ({"dnd_schedule": "weekdays"}, "dnd_schedule"),
        ({"sound_enabled": "loud"}, "sound_enabled"),
        ({"status": "typo"}, "status"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    people: Team, body: dict[str, Any], field: str
) -> None:
    UserChatSettings.objects.create(user=people.agent, status_text="Before")
    body = {key: _past() if value == "past" else value for key, value in body.items()}
    before = rows(UserChatSettings)

    response = client_for(people.agent).patch("/api/v1/me/chat-settings/", body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "validation_error"
    assert list(error["extra"]["fields"]) == [field]
    assert rows(UserChatSettings) == before


# --- presence ----------------------------------------------------------------------------------


def test_the_presence_of_every_member_and_nobody_else(people: Team) -> None:
    now = timezone.now()
    presence.heartbeat(
        user_id=people.agent.pk, channel_name="a", active=True, visible=True, room_id=None, now=now
    )
    presence.heartbeat(
        user_id=people.viewer.pk,
        channel_name="v",
        active=False,
        visible=True,
        room_id=None,
        now=now,
    )
    presence.heartbeat(
        user_id=people.outsider.pk,
        channel_name="o",
        active=True,
        visible=True,
        room_id=None,
        now=now,
    )
    UserChatSettings.objects.filter(user=people.viewer).update(
        status_text="Away", dnd_until=now + datetime.timedelta(hours=1)
    )

    response = client_for(people.agent).get(
        f"/api/v1/organizations/{people.organization.pk}/presence/"
    )

    assert response.status_code == 200
    assert response.json() == sorted(
        [
            {
                "user_id": people.admin.pk,
                "state": "offline",
                "status_text": "",
                "status_emoji": "",
                "dnd": False,
            },
            {
                "user_id": people.agent.pk,
                "state": "online",
                "status_text": "",
                "status_emoji": "",
                "dnd": False,
            },
            {
                "user_id": people.agent2.pk,
                "state": "offline",
                "status_text": "",
                "status_emoji": "",
                "dnd": False,
            },
            {
                "user_id": people.viewer.pk,
                "state": "away",
                "status_text": "Away",
                "status_emoji": "",
                "dnd": True,
            },
        ],
        key=lambda row: row["user_id"],
    )


def test_presence_takes_the_same_queries_for_many_members(
    people: Team, django_assert_max_num_queries: Any
) -> None:
    url = f"/api/v1/organizations/{people.organization.pk}/presence/"
    api = client_for(people.agent)
    with django_assert_max_num_queries(6) as few:
        api.get(url)
    for _ in range(8):
        newcomer = member(people.organization)
        presence.settings_for(newcomer)
        presence.heartbeat(
            user_id=newcomer.pk,
            channel_name=f"c{newcomer.pk}",
            active=True,
            visible=True,
            room_id=None,
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(url)

    assert len(response.json()) == 12


# --- online time -------------------------------------------------------------------------------


def test_an_org_admin_sees_every_member_of_that_organization_only(people: Team) -> None:
    today = today_in(people.admin)
    for person in (people.agent, people.viewer, people.outsider):
        online_day(person, today)
    online_day(people.agent, today - datetime.timedelta(days=1), online=600, active=0)

    response = client_for(people.admin).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/"
    )

    assert response.status_code == 200
    assert [(row["user_id"], row["day"]) for row in response.json()] == [
        (people.agent.pk, str(today - datetime.timedelta(days=1))),
        (people.agent.pk, str(today)),
        (people.viewer.pk, str(today)),
    ]
    first = response.json()[0]
    assert first == {
        "user_id": people.agent.pk,
        "name": "Bruno Agente",
        "day": str(today - datetime.timedelta(days=1)),
        "online_seconds": 600,
        "active_seconds": 0,
        "first_seen_at": first["first_seen_at"],
        "last_seen_at": first["last_seen_at"],
    }


def test_an_org_admin_asks_for_one_member(people: Team) -> None:
    today = today_in(people.admin)
    online_day(people.agent, today)
    online_day(people.viewer, today)

    response = client_for(people.admin).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/?user={people.viewer.pk}"
    )

    assert [row["user_id"] for row in response.json()] == [people.viewer.pk]


def test_an_agent_sees_only_their_own_time(people: Team) -> None:
    today = today_in(people.agent)
    online_day(people.agent, today)
    online_day(people.agent2, today)

    response = client_for(people.agent).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/"
    )
    someone_else = client_for(people.agent).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/?user={people.agent2.pk}"
    )

    assert [row["user_id"] for row in response.json()] == [people.agent.pk]
    assert_error(someone_else, 404, "not_found")


def test_the_range_is_inclusive_and_defaults_to_the_last_seven_days(people: Team) -> None:
    today = today_in(people.admin)
    for days_ago in (0, 6, 7):
        online_day(people.agent, today - datetime.timedelta(days=days_ago))
    online_day(people.agent, datetime.date(2026, 1, 1))
    online_day(people.agent, datetime.date(2026, 1, 3))
    url = f"/api/v1/organizations/{people.organization.pk}/online-time/"
    api = client_for(people.admin)

    default = api.get(url).json()
    chosen = api.get(f"{url}?from=2026-01-01&to=2026-01-03").json()
    one_day = api.get(f"{url}?from=2026-01-03&to=2026-01-03").json()

    assert [row["day"] for row in default] == [
        str(today - datetime.timedelta(days=6)),
        str(today),
    ]
    assert [row["day"] for row in chosen] == ["2026-01-01", "2026-01-03"]
    assert [row["day"] for row in one_day] == ["2026-01-03"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-01-10&to=2026-01-09", "from"),
        ("from=2026-01-01&to=2026-04-04", "to"),  # 94 days
        ("from=yesterday", "from"),
        ("user=abc", "user"),
    ],
)
def test_a_bad_range_is_refused(people: Team, query: str, field: str) -> None:
    response = client_for(people.admin).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/?{query}"
    )

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]


def test_ninety_three_days_are_allowed(people: Team) -> None:
    response = client_for(people.admin).get(
        f"/api/v1/organizations/{people.organization.pk}/online-time/?from=2026-01-01&to=2026-04-03"
    )

    assert response.status_code == 200


def test_online_time_takes_the_same_queries_for_many_members(
    people: Team, django_assert_max_num_queries: Any
) -> None:
    today = today_in(people.admin)
    url = f"/api/v1/organizations/{people.organization.pk}/online-time/"
    api = client_for(people.admin)
    online_day(people.agent, today)
    with django_assert_max_num_queries(6) as few:
        api.get(url)
    for _ in range(6):
        newcomer = member(people.organization, Role.AGENT)
        online_day(newcomer, today)
        online_day(newcomer, today - datetime.timedelta(days=1))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(url)

    assert len(response.json()) == 13
