"""CRM tasks and their due-time reminders."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from guardian.shortcuts import assign_perm

from accounts.tests.helpers import rows
from chat.models import Notification, NotificationKind
from core.exceptions import ApplicationError
from crm import reminders
from crm.models import Activity, ActivityKind, Lead, Task
from crm.tests import factories as make

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 5, 6, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def error(excinfo: pytest.ExceptionInfo[ApplicationError]) -> tuple[int, str, dict[str, Any]]:
    return excinfo.value.status_code, excinfo.value.code, excinfo.value.extra


def notifications() -> list[tuple[int, str, str, str, str, str]]:
    return list(
        Notification.objects.order_by("id").values_list(
            "user_id", "kind", "source", "title", "body", "url"
        )
    )


def a_task(org: Any, assignee: Any, *, due_at: datetime.datetime = NOW, **fields: Any) -> Task:
    contact = fields.pop("contact", None) or make.contact(org, "Ana Souza")
    return Task.objects.create(
        organization=org,
        contact=contact,
        assignee=assignee,
        title="Call back",
        due_at=due_at,
        **fields,
    )


# --- Services --------------------------------------------------------------------------------


def test_an_agent_creates_a_task_on_a_deal_and_its_timeline_says_so() -> None:
    team = make.team()
    org, agent, admin = team["org"], team["agent"], team["admin"]
    deal = make.deals(make.stages(make.pipeline(org))[0], 1)[0]

    task = reminders.task_create(
        actor=agent,
        organization_id=org.pk,
        title="  Send the proposal ",
        due_at=NOW,
        deal_id=deal.pk,
        assignee_id=admin.pk,
    )

    assert (task.title, task.deal_id, task.assignee_id, task.created_by_id) == (
        "Send the proposal",
        deal.pk,
        admin.pk,
        agent.pk,
    )
    assert list(
        Activity.objects.values_list("kind", "deal_id", "actor_id", "body", "task_id", "data")
    ) == [
        (
            ActivityKind.TASK,
            deal.pk,
            agent.pk,
            "Send the proposal",
            task.pk,
            {"due_at": NOW.isoformat(), "assignee_id": admin.pk},
        )
    ]


def test_a_task_defaults_to_its_creator() -> None:
    team = make.team()
    contact = make.contact(team["org"])

    task = reminders.task_create(
        actor=team["agent"],
        organization_id=team["org"].pk,
        title="Call",
        due_at=NOW,
        contact_id=contact.pk,
    )

    assert task.assignee_id == team["agent"].pk


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("none", (422, "crm.invalid_task", {"field": "deal_id"})),
        ("other_contact", (422, "crm.invalid_reference", {"field": "contact_id"})),
        ("other_lead", (422, "crm.invalid_reference", {"field": "lead_id"})),
        ("restricted_deal", (422, "crm.invalid_reference", {"field": "deal_id"})),
        ("outsider_assignee", (422, "crm.invalid_reference", {"field": "assignee_id"})),
    ],
)
def test_it_refuses_tasks_about_what_the_agent_cannot_reach(
    subject: str, expected: tuple[int, str, dict[str, Any]]
) -> None:
    team = make.team()
    org, agent = team["org"], team["agent"]
    secret = make.pipeline(org, "Secret", restricted=True)
    kwargs: dict[str, Any] = {
        "none": {},
        "other_contact": {"contact_id": make.contact(team["other_org"]).pk},
        "other_lead": {"lead_id": Lead.objects.create(organization=team["other_org"], name="X").pk},
        "restricted_deal": {"deal_id": make.deals(make.stages(secret)[0], 1)[0].pk},
        "outsider_assignee": {
            "contact_id": make.contact(org).pk,
            "assignee_id": team["outsider"].pk,
        },
    }[subject]
    before = rows(Task), rows(Activity)

    with pytest.raises(ApplicationError) as excinfo:
        reminders.task_create(actor=agent, organization_id=org.pk, title="T", due_at=NOW, **kwargs)

    assert error(excinfo) == expected
    assert (rows(Task), rows(Activity)) == before


def test_a_granted_agent_may_add_a_task_to_a_restricted_deal() -> None:
    team = make.team()
    secret = make.pipeline(team["org"], "Secret", restricted=True)
    assign_perm("crm.use_pipeline", team["agent"], secret)
    deal = make.deals(make.stages(secret)[0], 1)[0]

    task = reminders.task_create(
        actor=team["agent"], organization_id=team["org"].pk, title="T", due_at=NOW, deal_id=deal.pk
    )

    assert task.deal_id == deal.pk


def test_viewers_and_outsiders_may_not_create_tasks() -> None:
    team = make.team()
    contact = make.contact(team["org"])

    for actor, status in ((team["viewer"], 403), (team["outsider"], 404)):
        with pytest.raises(ApplicationError) as excinfo:
            reminders.task_create(
                actor=actor,
                organization_id=team["org"].pk,
                title="T",
                due_at=NOW,
                contact_id=contact.pk,
            )
        assert excinfo.value.status_code == status
    assert Task.objects.count() == 0


def test_completing_twice_records_one_done_line_and_reopening_clears_it() -> None:
    team = make.team()
    task = a_task(team["org"], team["agent"])

    done = reminders.task_complete(actor=team["admin"], task=task)
    again = reminders.task_complete(actor=team["agent"], task=task)

    assert done.done_by_id == team["admin"].pk
    assert again.done_at == done.done_at
    assert list(Activity.objects.values_list("kind", "actor_id", "contact_id", "task_id")) == [
        (ActivityKind.TASK_DONE, team["admin"].pk, task.contact_id, task.pk)
    ]
    reopened = reminders.task_reopen(actor=team["agent"], task=task)
    assert (reopened.done_at, reopened.done_by_id) == (None, None)


def test_updating_and_deleting_a_task() -> None:
    team = make.team()
    task = a_task(team["org"], team["agent"])

    updated = reminders.task_update(
        actor=team["agent"],
        task=task,
        title="Call again",
        notes="After 3pm",
        assignee_id=team["admin"].pk,
    )
    assert (updated.title, updated.notes, updated.assignee_id) == (
        "Call again",
        "After 3pm",
        team["admin"].pk,
    )
    with pytest.raises(ApplicationError) as excinfo:
        reminders.task_update(actor=team["agent"], task=task, assignee_id=team["outsider"].pk)
    assert error(excinfo) == (422, "crm.invalid_reference", {"field": "assignee_id"})

    reminders.task_delete(actor=team["agent"], task=task)
    assert Task.objects.count() == 0


def test_task_data() -> None:
    team = make.team()
    task = a_task(team["org"], team["agent"], due_at=NOW)
    loaded = Task.objects.select_related("deal", "contact", "lead", "assignee").get(pk=task.pk)

    data = reminders.task_data(loaded, now=NOW + datetime.timedelta(seconds=1))

    assert data == {
        "id": task.pk,
        "title": "Call back",
        "notes": "",
        "due_at": NOW,
        "deal": None,
        "contact": {"id": task.contact_id, "name": "Ana Souza"},
        "lead": None,
        "assignee": {"id": team["agent"].pk, "name": team["agent"].get_full_name()},
        "done_at": None,
        "overdue": True,
        "created_at": loaded.created_at,
    }


def test_tasks_on_restricted_deals_are_hidden_from_those_who_do_not_see_them() -> None:
    team = make.team()
    org = team["org"]
    secret = make.pipeline(org, "Secret", restricted=True)
    hidden_deal = make.deals(make.stages(secret)[0], 1)[0]
    Task.objects.create(
        organization=org, deal=hidden_deal, assignee=team["admin"], title="Hidden", due_at=NOW
    )
    a_task(org, team["admin"])

    assert [t.title for t in reminders.tasks_list(user=team["agent"], organization_id=org.pk)] == [
        "Call back"
    ]
    # Same due time: by id.
    assert [t.title for t in reminders.tasks_list(user=team["admin"], organization_id=org.pk)] == [
        "Hidden",
        "Call back",
    ]


# --- Reminders -------------------------------------------------------------------------------


def test_a_due_task_is_reminded_once_in_the_assignees_language() -> None:
    team = make.team()
    agent = team["agent"]
    agent.language = "en"
    agent.save(update_fields=["language"])
    task = a_task(team["org"], agent, due_at=NOW)

    first = reminders.send_due_reminders(now=NOW)
    second = reminders.send_due_reminders(now=NOW + datetime.timedelta(minutes=1))

    assert (first, second) == (1, 0)
    assert notifications() == [
        (
            agent.pk,
            NotificationKind.CRM_TASK_DUE,
            f"crm_task:{task.pk}:2025-05-06T12:00:00+00:00",
            "Task due: Call back",
            "Ana Souza",
            "/crm/tasks",
        )
    ]
    task.refresh_from_db()
    assert task.reminded_at == NOW


def test_a_task_is_not_reminded_before_it_is_due() -> None:
    team = make.team()
    a_task(team["org"], team["agent"], due_at=NOW)

    assert reminders.send_due_reminders(now=NOW - datetime.timedelta(seconds=1)) == 0
    assert notifications() == []
    assert Task.objects.get().reminded_at is None


def test_a_done_task_is_not_reminded() -> None:
    team = make.team()
    a_task(team["org"], team["agent"], due_at=NOW, done_at=NOW - datetime.timedelta(hours=1))

    assert reminders.send_due_reminders(now=NOW) == 0
    assert notifications() == []


def test_moving_the_due_time_reminds_again_at_the_new_time() -> None:
    team = make.team()
    task = a_task(team["org"], team["agent"], due_at=NOW)
    reminders.send_due_reminders(now=NOW)
    later = NOW + datetime.timedelta(days=1)

    reminders.task_update(actor=team["agent"], task=task, due_at=later)

    assert Task.objects.get().reminded_at is None
    assert reminders.send_due_reminders(now=NOW + datetime.timedelta(hours=1)) == 0
    assert reminders.send_due_reminders(now=later) == 1
    assert [source for _u, _k, source, *_rest in notifications()] == [
        f"crm_task:{task.pk}:2025-05-06T12:00:00+00:00",
        f"crm_task:{task.pk}:2025-05-07T12:00:00+00:00",
    ]


def test_saving_the_same_due_time_does_not_rearm_the_reminder() -> None:
    team = make.team()
    task = a_task(team["org"], team["agent"], due_at=NOW)
    reminders.send_due_reminders(now=NOW)

    reminders.task_update(actor=team["agent"], task=task, due_at=NOW, title="Same time")

    assert Task.objects.get().reminded_at == NOW
    assert reminders.send_due_reminders(now=NOW + datetime.timedelta(hours=1)) == 0


def test_a_claimed_task_is_not_notified_by_an_overlapping_sweep(monkeypatch: Any) -> None:
    # Two beat runs overlap: both read the task as due, the first claims and notifies it;
    # the second one's conditional UPDATE then matches nothing.
    team = make.team()
    a_task(team["org"], team["agent"], due_at=NOW)
    original = Task.objects.filter
    raced = {"done": False}

    def filter_then_race(*args: Any, **kwargs: Any) -> Any:
        if "pk" in kwargs and not raced["done"]:
            raced["done"] = True
            assert reminders.send_due_reminders(now=NOW) == 1
        return original(*args, **kwargs)

    monkeypatch.setattr(Task.objects, "filter", filter_then_race)

    assert reminders.send_due_reminders(now=NOW) == 0
    assert len(notifications()) == 1
