"""SLA timers with a controlled clock: started, met, warned once, breached once, notified.

Every service takes ``now``, so each test moves the clock by hand (``T0`` is Monday 10:00 in
São Paulo). Queues are open around the clock unless a test gives them hours.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.db import connection, transaction

from accounts.models import User
from accounts.roles import Role
from accounts.tests.helpers import committed
from chat.models import Notification
from queueing import sla
from queueing.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    QueueMember,
    SlaStatus,
    SupportQueue,
)
from queueing.tests.inbox_factories import (
    T0,
    agent,
    at,
    contact,
    conversation,
    member,
    organization,
    queue,
)

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)
FIRST_DUE = T0 + 30 * MINUTE
RESOLUTION_DUE = T0 + 240 * MINUTE
NOTIFICATION_FIELDS = (
    "user_id",
    "organization_id",
    "kind",
    "source",
    "title",
    "body",
    "url",
    "data",
    "actor_id",
    "room_id",
    "read_at",
)


def sla_queue(org: Any, **fields: Any) -> SupportQueue:
    fields.setdefault("first_response_minutes", 30)
    fields.setdefault("resolution_minutes", 240)
    fields.setdefault("sla_warning_minutes", 10)
    fields.setdefault("time_zone", "America/Sao_Paulo")
    return queue(org, **fields)


def started(support_queue: SupportQueue, *, now: datetime.datetime = T0, **fields: Any) -> Any:
    """A conversation whose timers started at ``now`` (as conversation_create does)."""
    conv = conversation(support_queue, **fields)
    sla.sla_start(conv, now=now)
    conv.save()
    return conv


def fresh(conv: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conv.pk)


def timers(conv: Conversation) -> dict[str, Any]:
    conv = fresh(conv)
    return {
        "first_response": (
            conv.first_response_status,
            conv.first_response_due_at,
            conv.first_response_at,
            conv.first_response_warned_at,
        ),
        "resolution": (conv.resolution_status, conv.resolution_due_at, conv.resolution_warned_at),
    }


def notifications() -> list[dict[str, Any]]:
    return list(Notification.objects.order_by("source", "user_id").values(*NOTIFICATION_FIELDS))


def events() -> list[tuple[int, str, int | None, dict[str, Any], datetime.datetime]]:
    return list(
        ConversationEvent.objects.order_by("id").values_list(
            "conversation_id", "kind", "actor_id", "data", "created_at"
        )
    )


def notification(
    user: User, conv: Conversation, timer: str, kind: str, title: str, due: datetime.datetime
) -> dict[str, Any]:
    return {
        "user_id": user.pk,
        "organization_id": conv.organization_id,
        "kind": f"support_sla_{kind}",
        "source": f"sla:{conv.pk}:{timer}:{kind}",
        "title": title,
        "body": "Geral",
        "url": f"/inbox/{conv.pk}",
        "data": {
            "conversation_id": conv.pk,
            "timer": timer,
            "due_at": due.isoformat().replace("+00:00", "Z"),
        },
        "actor_id": None,
        "room_id": None,
        "read_at": None,
    }


@pytest.fixture
def org() -> Any:
    return organization()


@pytest.fixture
def support_queue(org: Any) -> SupportQueue:
    return sla_queue(org)


@pytest.fixture
def assignee(org: Any, support_queue: SupportQueue) -> User:
    return agent(org, support_queue, language="en")


# --- starting ---------------------------------------------------------------------------------


def test_timers_start_with_due_dates_counted_in_business_hours(org: Any) -> None:
    # Given a queue open on weekdays 09:00-18:00 in São Paulo and a conversation arriving on
    # Friday at 17:50 local time
    weekdays = [{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)]
    office = sla_queue(org, weekly_hours=weekdays, holidays=["2026-03-09"])
    conv = Conversation(organization=org, queue=office, contact=contact(org))
    friday = datetime.datetime(2026, 3, 6, 20, 50, tzinfo=datetime.UTC)

    # When the timers start
    sla.sla_start(conv, now=friday)

    # Then 10 minutes count on Friday and the rest from Tuesday 09:00 (Monday is a holiday)
    tuesday_nine = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
    assert (conv.first_response_status, conv.first_response_due_at) == (
        SlaStatus.ACTIVE,
        tuesday_nine + 20 * MINUTE,
    )
    assert (conv.resolution_status, conv.resolution_due_at) == (
        SlaStatus.ACTIVE,
        tuesday_nine + 230 * MINUTE,
    )
    assert (conv.first_response_at, conv.first_response_warned_at, conv.resolution_warned_at) == (
        None,
        None,
        None,
    )
    assert conv.pk is None  # the caller saves


def test_a_queue_without_targets_starts_no_timers(org: Any) -> None:
    plain = sla_queue(org, first_response_minutes=None, resolution_minutes=None)
    conv = started(plain)

    assert sla.sla_payload(fresh(conv)) == {
        "first_response": {"status": "none", "due_at": None, "at": None},
        "resolution": {"status": "none", "due_at": None, "at": None},
    }
    assert sla.sla_check(now=T0 + datetime.timedelta(days=30)) == {"warned": 0, "breached": 0}
    assert events() == []


def test_the_payload_shows_statuses_and_iso_times(support_queue: SupportQueue) -> None:
    conv = started(support_queue)
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=at(125.5))

    assert sla.sla_payload(fresh(conv)) == {
        "first_response": {
            "status": "met",
            "due_at": "2026-03-09T13:30:00Z",
            "at": "2026-03-09T13:02:05.500Z",
        },
        "resolution": {"status": "active", "due_at": "2026-03-09T17:00:00Z", "at": None},
    }


# --- first response ---------------------------------------------------------------------------


def test_the_first_reply_in_time_meets_the_target_and_later_replies_change_nothing(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)

    sla.sla_on_agent_reply(conversation_id=conv.pk, now=FIRST_DUE)
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=FIRST_DUE + 5 * MINUTE)

    assert timers(conv) == {
        "first_response": (SlaStatus.MET, FIRST_DUE, FIRST_DUE, None),
        "resolution": (SlaStatus.ACTIVE, RESOLUTION_DUE, None),
    }
    assert events() == []
    assert notifications() == []
    # A met timer is never breached afterwards.
    assert sla.sla_check(now=FIRST_DUE + MINUTE) == {"warned": 0, "breached": 0}


def test_a_late_first_reply_records_the_breach_and_notifies(
    org: Any, support_queue: SupportQueue, assignee: User
) -> None:
    # Given a supervisor and an admin, and a conversation the check has not looked at
    supervisor = agent(org, support_queue, supervisor=True, language="en")
    admin = member(org, role=Role.ORG_ADMIN, language="en")
    conv = started(support_queue, assignee=assignee, who=contact(org, name="Ana"))

    # When the first reply comes a second late
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=FIRST_DUE + SECOND)

    # Then the timer is breached, with the same event and notifications as the check's
    assert timers(conv)["first_response"] == (
        SlaStatus.BREACHED,
        FIRST_DUE,
        FIRST_DUE + SECOND,
        None,
    )
    assert events() == [
        (conv.pk, "sla_breach", None, {"timer": "first_response"}, FIRST_DUE + SECOND)
    ]
    title = "First response overdue: Ana"
    assert notifications() == [
        notification(person, conv, "first_response", "breach", title, FIRST_DUE)
        for person in sorted((assignee, supervisor, admin), key=lambda person: person.pk)
    ]


def test_a_reply_to_an_already_breached_timer_keeps_it_breached(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)
    sla.sla_check(now=FIRST_DUE + MINUTE)
    before = events()

    sla.sla_on_agent_reply(conversation_id=conv.pk, now=FIRST_DUE + 2 * MINUTE)

    assert timers(conv)["first_response"] == (
        SlaStatus.BREACHED,
        FIRST_DUE,
        FIRST_DUE + 2 * MINUTE,
        None,
    )
    assert events() == before


# --- the periodic check -----------------------------------------------------------------------


def test_the_check_warns_once_before_the_breach_and_breaches_once(
    org: Any, support_queue: SupportQueue, assignee: User
) -> None:
    # Given an assigned conversation whose first response is due at T0 + 30 min (warning 10)
    supervisor = agent(org, support_queue, supervisor=True, language="en")
    conv = started(support_queue, assignee=assignee, who=contact(org, name="Ana"))

    # When the clock runs and the check runs at each step
    outcomes = [
        sla.sla_check(now=moment)
        for moment in (
            FIRST_DUE - 10 * MINUTE - SECOND,
            FIRST_DUE - 10 * MINUTE,
            FIRST_DUE - MINUTE,
            FIRST_DUE,
            FIRST_DUE + SECOND,
            FIRST_DUE + MINUTE,
        )
    ]

    # Then one warning at due - 10 min, one breach just after the due date, nothing else
    assert outcomes == [
        {"warned": 0, "breached": 0},
        {"warned": 1, "breached": 0},
        {"warned": 0, "breached": 0},
        {"warned": 0, "breached": 0},
        {"warned": 0, "breached": 1},
        {"warned": 0, "breached": 0},
    ]
    assert timers(conv) == {
        "first_response": (SlaStatus.BREACHED, FIRST_DUE, None, FIRST_DUE - 10 * MINUTE),
        "resolution": (SlaStatus.ACTIVE, RESOLUTION_DUE, None),
    }
    assert events() == [
        (conv.pk, "sla_warning", None, {"timer": "first_response"}, FIRST_DUE - 10 * MINUTE),
        (conv.pk, "sla_breach", None, {"timer": "first_response"}, FIRST_DUE + SECOND),
    ]
    # The warning goes to the assignee; the breach to the assignee and the supervisor.
    assert notifications() == [
        notification(
            assignee, conv, "first_response", "breach", "First response overdue: Ana", FIRST_DUE
        ),
        notification(
            supervisor, conv, "first_response", "breach", "First response overdue: Ana", FIRST_DUE
        ),
        notification(
            assignee, conv, "first_response", "warning", "First response due soon: Ana", FIRST_DUE
        ),
    ]


def test_the_resolution_timer_is_warned_and_breached_the_same_way(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=at(60))

    assert sla.sla_check(now=RESOLUTION_DUE - 5 * MINUTE) == {"warned": 1, "breached": 0}
    assert sla.sla_check(now=RESOLUTION_DUE + MINUTE) == {"warned": 0, "breached": 1}
    assert timers(conv)["resolution"] == (
        SlaStatus.BREACHED,
        RESOLUTION_DUE,
        RESOLUTION_DUE - 5 * MINUTE,
    )
    assert [(kind, data) for _id, kind, _actor, data, _at in events()] == [
        ("sla_warning", {"timer": "resolution"}),
        ("sla_breach", {"timer": "resolution"}),
    ]
    assert list(Notification.objects.order_by("id").values_list("source", flat=True)) == [
        f"sla:{conv.pk}:resolution:warning",
        f"sla:{conv.pk}:resolution:breach",
    ]


def test_a_timer_found_already_late_is_breached_without_a_warning(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)

    # The check did not run for an hour: both nothing-warned timers are handled at once.
    result = sla.sla_check(now=RESOLUTION_DUE - 5 * MINUTE)

    assert result == {"warned": 1, "breached": 1}
    assert [(kind, data["timer"]) for _id, kind, _actor, data, _at in events()] == [
        ("sla_breach", "first_response"),
        ("sla_warning", "resolution"),
    ]
    assert timers(conv)["first_response"][3] is None


def test_business_hours_hold_the_timer_over_the_weekend(org: Any, assignee: User) -> None:
    weekdays = [{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)]
    office = sla_queue(org, name="Escritório", weekly_hours=weekdays)
    friday = datetime.datetime(2026, 3, 6, 20, 50, tzinfo=datetime.UTC)  # 17:50 local
    conv = started(office, now=friday, assignee=assignee)

    # Saturday: hours past the wall-clock 30 minutes, but only 10 business minutes
    assert sla.sla_check(now=friday + datetime.timedelta(hours=20)) == {"warned": 0, "breached": 0}
    # Monday 09:10 local: ten minutes before the due date
    assert sla.sla_check(now=T0 - 50 * MINUTE) == {"warned": 1, "breached": 0}
    assert sla.sla_check(now=T0 - 40 * MINUTE + SECOND) == {"warned": 0, "breached": 1}
    assert fresh(conv).first_response_due_at == T0 - 40 * MINUTE


def test_warnings_to_an_unassigned_conversation_go_to_the_queue_supervisors(
    org: Any, support_queue: SupportQueue
) -> None:
    supervisor = agent(org, support_queue, supervisor=True, language="en")
    agent(org, support_queue, language="en")  # a member, not a supervisor
    conv = started(support_queue, who=contact(org, name="", email="ana@example.com"))

    sla.sla_check(now=FIRST_DUE - 5 * MINUTE)

    assert notifications() == [
        notification(
            supervisor,
            conv,
            "first_response",
            "warning",
            "First response due soon: ana@example.com",
            FIRST_DUE,
        )
    ]


def test_breaches_reach_the_assignee_the_queues_supervisors_and_the_admins_only(
    org: Any, support_queue: SupportQueue
) -> None:
    # Given everyone who might hear about it
    boss = agent(org, support_queue, role=Role.ORG_ADMIN, supervisor=True, language="en")
    supervisor = agent(org, support_queue, supervisor=True, language="en")
    admin = member(org, role=Role.ORG_ADMIN, language="en")
    agent(org, support_queue, language="en")  # a plain member of the queue
    other_queue = sla_queue(org, name="Outra")
    agent(org, other_queue, supervisor=True, language="en")  # supervises another queue
    member(org, role=Role.VIEWER, language="en")
    member(organization(), role=Role.ORG_ADMIN, language="en")  # another organization's admin
    gone = agent(org, support_queue, supervisor=True, language="en")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    conv = started(support_queue, assignee=boss)

    # When the first response is breached
    sla.sla_check(now=FIRST_DUE + MINUTE)

    # Then the assignee (also a supervisor and an admin) hears once, with the others
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(
        [boss.pk, supervisor.pk, admin.pk]
    )
    assert set(Notification.objects.values_list("source", flat=True)) == {
        f"sla:{conv.pk}:first_response:breach"
    }


def test_no_warning_when_the_queue_warns_zero_minutes_before(org: Any, assignee: User) -> None:
    quiet = sla_queue(org, name="Silencioso", sla_warning_minutes=0)
    started(quiet, assignee=assignee)

    assert sla.sla_check(now=FIRST_DUE) == {"warned": 0, "breached": 0}
    assert sla.sla_check(now=FIRST_DUE + SECOND) == {"warned": 0, "breached": 1}
    assert [kind for _id, kind, _actor, _data, _at in events()] == ["sla_breach"]


def test_resolved_conversations_and_stopped_timers_are_left_alone(
    support_queue: SupportQueue, assignee: User
) -> None:
    # A resolved conversation whose timers were never stopped (rows from before this code),
    # and one whose timers are met.
    resolved = started(support_queue, assignee=assignee, status=ConversationStatus.RESOLVED)
    met = started(support_queue, assignee=assignee)
    Conversation.objects.filter(pk=met.pk).update(
        first_response_status=SlaStatus.MET, resolution_status=SlaStatus.MET
    )

    assert sla.sla_check(now=RESOLUTION_DUE + MINUTE) == {"warned": 0, "breached": 0}
    assert timers(resolved)["first_response"][0] == SlaStatus.ACTIVE
    assert events() == []
    assert notifications() == []


def test_the_check_publishes_each_changed_conversation_once(
    support_queue: SupportQueue, assignee: User, published: list[tuple[str, dict[str, Any]]]
) -> None:
    changed = started(support_queue, assignee=assignee)
    untouched = started(support_queue, assignee=assignee, now=T0 + 20 * MINUTE)

    with committed():
        sla.sla_check(now=FIRST_DUE + MINUTE)

    org_id = changed.organization_id
    assert [(group, message["event"]) for group, message in published] == [
        (f"user.{assignee.pk}", "chat.notification.created"),
        (f"queueing.inbox.{org_id}", "inbox.conversation.updated"),
        (f"queueing.conversation.{changed.pk}", "inbox.conversation.updated"),
        (f"widget.contact.{changed.contact_id}", "widget.conversation.updated"),
    ]
    assert published[1][1]["data"]["id"] == changed.pk
    assert published[1][1]["data"]["sla"] == sla.sla_payload(fresh(changed))
    assert published[1][1]["data"]["sla"]["first_response"]["status"] == "breached"
    assert timers(untouched)["first_response"][0] == SlaStatus.ACTIVE


def test_the_check_goes_through_every_batch(
    monkeypatch: pytest.MonkeyPatch, support_queue: SupportQueue, assignee: User
) -> None:
    monkeypatch.setattr(sla, "BATCH_SIZE", 2)
    conversations = [started(support_queue, assignee=assignee) for _ in range(5)]

    assert sla.sla_check(now=FIRST_DUE + MINUTE) == {"warned": 0, "breached": 5}
    assert [conv_id for conv_id, *_rest in events()] == [conv.pk for conv in conversations]
    assert sla.sla_check(now=FIRST_DUE + 2 * MINUTE) == {"warned": 0, "breached": 0}


# --- resolve and reopen -----------------------------------------------------------------------


def resolve(conv: Conversation, now: datetime.datetime) -> None:
    Conversation.objects.filter(pk=conv.pk).update(
        status=ConversationStatus.RESOLVED, resolved_at=now, waiting_since=None
    )
    sla.sla_on_resolve(conversation_id=conv.pk, now=now)


def test_resolving_in_time_meets_the_resolution_target(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=at(60))

    resolve(conv, RESOLUTION_DUE)

    assert timers(conv) == {
        "first_response": (SlaStatus.MET, FIRST_DUE, at(60), None),
        "resolution": (SlaStatus.MET, RESOLUTION_DUE, None),
    }
    assert events() == []
    assert sla.sla_payload(fresh(conv))["resolution"] == {
        "status": "met",
        "due_at": "2026-03-09T17:00:00Z",
        "at": "2026-03-09T17:00:00Z",
    }


def test_resolving_late_records_the_breach(
    org: Any, support_queue: SupportQueue, assignee: User
) -> None:
    admin = member(org, role=Role.ORG_ADMIN, language="en")
    conv = started(support_queue, assignee=assignee, who=contact(org, name="Ana"))
    sla.sla_on_agent_reply(conversation_id=conv.pk, now=at(60))

    resolve(conv, RESOLUTION_DUE + SECOND)

    assert timers(conv)["resolution"] == (SlaStatus.BREACHED, RESOLUTION_DUE, None)
    assert events() == [
        (conv.pk, "sla_breach", None, {"timer": "resolution"}, RESOLUTION_DUE + SECOND)
    ]
    title = "Resolution overdue: Ana"
    assert notifications() == [
        notification(person, conv, "resolution", "breach", title, RESOLUTION_DUE)
        for person in sorted((assignee, admin), key=lambda person: person.pk)
    ]


def test_resolving_without_a_reply_stops_the_first_response_timer(
    support_queue: SupportQueue, assignee: User
) -> None:
    early = started(support_queue, assignee=assignee)
    late = started(support_queue, assignee=assignee)

    resolve(early, FIRST_DUE)
    resolve(late, FIRST_DUE + SECOND)

    assert timers(early)["first_response"] == (SlaStatus.NONE, None, None, None)
    assert timers(late)["first_response"] == (SlaStatus.BREACHED, FIRST_DUE, None, None)
    assert [(conv_id, kind) for conv_id, kind, *_rest in events()] == [(late.pk, "sla_breach")]


def test_reopening_restarts_a_met_resolution_and_keeps_a_breached_one(
    support_queue: SupportQueue, assignee: User
) -> None:
    met = started(support_queue, assignee=assignee)
    breached = started(support_queue, assignee=assignee)
    for conv in (met, breached):
        sla.sla_on_agent_reply(conversation_id=conv.pk, now=at(60))
    sla.sla_check(now=RESOLUTION_DUE - 5 * MINUTE)  # both warned
    resolve(met, RESOLUTION_DUE - MINUTE)
    resolve(breached, RESOLUTION_DUE + MINUTE)
    reopened_at = RESOLUTION_DUE + datetime.timedelta(hours=1)

    for conv in (met, breached):
        Conversation.objects.filter(pk=conv.pk).update(
            status=ConversationStatus.OPEN, resolved_at=None
        )
        sla.sla_on_reopen(conversation_id=conv.pk, now=reopened_at)

    assert timers(met)["resolution"] == (SlaStatus.ACTIVE, reopened_at + 240 * MINUTE, None)
    assert timers(breached)["resolution"] == (
        SlaStatus.BREACHED,
        RESOLUTION_DUE,
        RESOLUTION_DUE - 5 * MINUTE,
    )
    # The first response stays as it was.
    assert timers(met)["first_response"] == (SlaStatus.MET, FIRST_DUE, at(60), None)
    # The restarted timer is checked again.
    assert sla.sla_check(now=reopened_at + 241 * MINUTE) == {"warned": 0, "breached": 1}


def test_reopening_restarts_a_first_response_that_stopped_without_a_reply(
    support_queue: SupportQueue, assignee: User
) -> None:
    conv = started(support_queue, assignee=assignee)
    resolve(conv, at(60))
    Conversation.objects.filter(pk=conv.pk).update(status=ConversationStatus.OPEN)

    sla.sla_on_reopen(conversation_id=conv.pk, now=at(120))

    assert timers(conv) == {
        "first_response": (SlaStatus.ACTIVE, at(120) + 30 * MINUTE, None, None),
        "resolution": (SlaStatus.ACTIVE, at(120) + 240 * MINUTE, None),
    }


def test_the_services_ignore_a_conversation_that_does_not_exist() -> None:
    sla.sla_on_agent_reply(conversation_id=999999, now=T0)
    sla.sla_on_resolve(conversation_id=999999, now=T0)
    sla.sla_on_reopen(conversation_id=999999, now=T0)

    assert events() == []


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_conversation_locked_elsewhere_is_skipped_not_waited_for(org: Any) -> None:
    support_queue = sla_queue(org)
    person = agent(org, support_queue, language="en")
    busy, free = started(support_queue, assignee=person), started(support_queue, assignee=person)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Conversation.objects.select_for_update().get(pk=busy.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row, daemon=True)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        first = sla.sla_check(now=FIRST_DUE + MINUTE)
    finally:
        release.set()
        holder.join(timeout=10)

    assert first == {"warned": 0, "breached": 1}
    assert timers(busy)["first_response"][0] == SlaStatus.ACTIVE
    assert timers(free)["first_response"][0] == SlaStatus.BREACHED
    # The next run gets the row that was busy.
    assert sla.sla_check(now=FIRST_DUE + 2 * MINUTE) == {"warned": 0, "breached": 1}
    assert [conv_id for conv_id, *_rest in events()] == [free.pk, busy.pk]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_breach_each_timer_once(
    monkeypatch: pytest.MonkeyPatch, org: Any
) -> None:
    monkeypatch.setattr(sla, "BATCH_SIZE", 3)
    support_queue = sla_queue(org)
    people = [agent(org, support_queue, language="en") for _ in range(4)]
    QueueMember.objects.filter(user=people[0]).update(is_supervisor=True)
    conversations = [started(support_queue, assignee=people[n % 4]) for n in range(20)]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def check(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = sla.sla_check(now=FIRST_DUE + MINUTE)
        except Exception as exc:  # recorded for the assertion below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=check, args=(n,), daemon=True) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(outcome, dict) for outcome in outcomes), outcomes
    assert sum(outcome["breached"] for outcome in outcomes) == 20
    assert sorted(conv_id for conv_id, *_rest in events()) == sorted(c.pk for c in conversations)
    # The assignee and the supervisor (people[0]) each hear once per conversation.
    expected = sum(1 if n % 4 == 0 else 2 for n in range(20))
    assert Notification.objects.count() == expected
