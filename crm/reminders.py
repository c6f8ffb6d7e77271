"""CRM tasks (things to do about a deal, contact or lead by a due time) and their reminders.

Tasks belong to the organization; a task on a deal is seen only by those who see the deal's
pipeline. Creating and completing one writes a TASK / TASK_DONE line on its records'
timelines. ``send_due_reminders`` (every 30 s from beat) notifies each assignee once when
their task falls due; moving the due time re-arms the reminder.
"""

from __future__ import annotations

import datetime
from typing import Any, TypedDict

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from core.exceptions import ApplicationError
from crm import access, filtering
from crm.models import ActivityKind, Contact, Lead, Task
from crm.timeline import activity_record

TASKS_URL = "/crm/tasks"
# One sweep claims at most this many tasks; the next one (30 s later) takes the rest.
REMINDERS_PER_RUN = 500
TITLE_MAX_LENGTH = 200


class UserRef(TypedDict):
    id: int
    name: str


class TaskData(TypedDict):
    id: int
    title: str
    notes: str
    due_at: datetime.datetime
    deal: dict[str, Any] | None
    contact: dict[str, Any] | None
    lead: dict[str, Any] | None
    assignee: UserRef
    done_at: datetime.datetime | None
    overdue: bool
    created_at: datetime.datetime


def user_ref(user: User | None) -> UserRef | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name()}


def invalid_reference(field: str) -> ApplicationError:
    return ApplicationError(
        _("This record does not exist in the organization."),
        code="crm.invalid_reference",
        extra={"field": field},
        status_code=422,
    )


def invalid_task(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code="crm.invalid_task", extra={"field": field}, status_code=422
    )


# --- Selectors -------------------------------------------------------------------------------


def tasks_visible(user: Any, organization_id: int) -> QuerySet[Task]:
    """The organization's tasks, except those on deals of pipelines the user does not see."""
    pipelines = access.pipelines_visible(user, organization_id).values("pk")
    return Task.objects.filter(organization_id=organization_id).filter(
        Q(deal__isnull=True) | Q(deal__pipeline__in=pipelines)
    )


def tasks_list(
    *, user: Any, organization_id: int, filters: filtering.Filters | None = None
) -> QuerySet[Task]:
    """The tasks the user sees, filtered (``crm.filtering`` "tasks" keys), by due time;
    loaded for ``task_data`` (no further queries per task)."""
    tasks = filtering.apply_filters(
        "tasks",
        tasks_visible(user, organization_id),
        filters,
        organization_id=organization_id,
        user=user,
    )
    return tasks.select_related("deal", "contact", "lead", "assignee").order_by("due_at", "id")


def task_for(user: Any, organization_id: int, task_id: int) -> Task:
    """The task, if the user sees it; 404 ``crm.not_found`` otherwise."""
    task = (
        tasks_visible(user, organization_id)
        .select_related("deal", "contact", "lead", "assignee")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise access.not_found()
    return task


def task_data(task: Task, *, now: datetime.datetime | None = None) -> TaskData:
    """TaskData (load deal, contact, lead and assignee with ``select_related``)."""
    now = now or timezone.now()
    assignee = user_ref(task.assignee)
    assert assignee is not None
    return {
        "id": task.pk,
        "title": task.title,
        "notes": task.notes,
        "due_at": task.due_at,
        "deal": {"id": task.deal.pk, "title": task.deal.title} if task.deal else None,
        "contact": {"id": task.contact.pk, "name": task.contact.name} if task.contact else None,
        "lead": {"id": task.lead.pk, "name": task.lead.name} if task.lead else None,
        "assignee": assignee,
        "done_at": task.done_at,
        "overdue": task.done_at is None and task.due_at < now,
        "created_at": task.created_at,
    }


# --- Services --------------------------------------------------------------------------------


def _check_assignee(organization_id: int, assignee_id: int) -> None:
    if not Membership.objects.filter(
        organization_id=organization_id, user_id=assignee_id, role__in=access.STAFF_ROLES
    ).exists():
        raise invalid_reference("assignee_id")


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise invalid_task("title", _("A task needs a title."))
    if len(title) > TITLE_MAX_LENGTH:
        raise invalid_task("title", _("The title is too long."))
    return title


@transaction.atomic
def task_create(
    *,
    actor: User,
    organization_id: int,
    title: str,
    due_at: datetime.datetime,
    notes: str = "",
    deal_id: int | None = None,
    contact_id: int | None = None,
    lead_id: int | None = None,
    assignee_id: int | None = None,
) -> Task:
    """Create a task about a deal, a contact and/or a lead (at least one), assigned to
    ``assignee_id`` (a member; the actor by default).

    Needs CRM_WRITE (403 for viewers, 404 outside). The records must be the organization's,
    and a deal in a pipeline the actor sees (else 422 ``crm.invalid_reference`` {"field"});
    no record is 422 ``crm.invalid_task``. Records a TASK activity on the records' timelines.
    Takes no locks (a new row).
    """
    access.require_write(actor, organization_id)
    title = _check_title(title)
    if deal_id is None and contact_id is None and lead_id is None:
        raise invalid_task("deal_id", _("A task is about a deal, a contact or a lead."))
    if (
        deal_id is not None
        and not access.deals_visible(actor, organization_id).filter(pk=deal_id).exists()
    ):
        raise invalid_reference("deal_id")
    if (
        contact_id is not None
        and not Contact.objects.filter(pk=contact_id, organization_id=organization_id).exists()
    ):
        raise invalid_reference("contact_id")
    if (
        lead_id is not None
        and not Lead.objects.filter(pk=lead_id, organization_id=organization_id).exists()
    ):
        raise invalid_reference("lead_id")
    assignee_id = assignee_id if assignee_id is not None else actor.pk
    _check_assignee(organization_id, assignee_id)
    task = Task.objects.create(
        organization_id=organization_id,
        title=title,
        notes=notes,
        due_at=due_at,
        deal_id=deal_id,
        contact_id=contact_id,
        lead_id=lead_id,
        assignee_id=assignee_id,
        created_by=actor,
    )
    activity_record(
        organization_id=organization_id,
        kind=ActivityKind.TASK,
        actor_id=actor.pk,
        deal_id=deal_id,
        contact_id=contact_id,
        lead_id=lead_id,
        body=title,
        data={"due_at": due_at.isoformat(), "assignee_id": assignee_id},
        task_id=task.pk,
    )
    return task


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


UPDATABLE = frozenset({"title", "notes", "due_at", "assignee_id"})


@transaction.atomic
def task_update(*, actor: User, task: Task, **fields: Any) -> Task:
    """Change a task's ``title``, ``notes``, ``due_at`` or ``assignee_id``.

    Needs CRM_WRITE. Locks the task. A new due time clears ``reminded_at``, so the reminder
    fires again at the new time. The assignee must be a member (422 ``crm.invalid_reference``).
    """
    access.require_write(actor, task.organization_id)
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise invalid_task(sorted(unknown)[0], _("This field cannot be changed."))
    locked = _locked(task)
    changed: list[str] = []
    if "title" in fields:
        locked.title = _check_title(fields["title"])
        changed.append("title")
    if "notes" in fields:
        locked.notes = fields["notes"] or ""
        changed.append("notes")
    if "assignee_id" in fields:
        _check_assignee(task.organization_id, fields["assignee_id"])
        locked.assignee_id = fields["assignee_id"]
        changed.append("assignee")
    if "due_at" in fields and fields["due_at"] != locked.due_at:
        locked.due_at = fields["due_at"]
        locked.reminded_at = None
        changed += ["due_at", "reminded_at"]
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    return Task.objects.select_related("deal", "contact", "lead", "assignee").get(pk=task.pk)


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    """Mark a task done (by the actor, now). Needs CRM_WRITE. Locks the task; a done task
    stays as it is (no second activity). Records TASK_DONE on the records' timelines."""
    access.require_write(actor, task.organization_id)
    locked = _locked(task)
    if locked.done_at is None:
        locked.done_at = timezone.now()
        locked.done_by = actor
        locked.save(update_fields=["done_at", "done_by", "updated_at"])
        activity_record(
            organization_id=locked.organization_id,
            kind=ActivityKind.TASK_DONE,
            actor_id=actor.pk,
            deal_id=locked.deal_id,
            contact_id=locked.contact_id,
            lead_id=locked.lead_id,
            body=locked.title,
            task_id=locked.pk,
        )
    return Task.objects.select_related("deal", "contact", "lead", "assignee").get(pk=task.pk)


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    """Mark a done task open again. Needs CRM_WRITE. Locks the task. A task that was already
    reminded is not reminded again unless its due time changes."""
    access.require_write(actor, task.organization_id)
    locked = _locked(task)
    if locked.done_at is not None:
        locked.done_at = None
        locked.done_by = None
        locked.save(update_fields=["done_at", "done_by", "updated_at"])
    return Task.objects.select_related("deal", "contact", "lead", "assignee").get(pk=task.pk)


@transaction.atomic
def task_delete(*, actor: User, task: Task) -> None:
    """Delete a task. Needs CRM_WRITE. Its timeline lines stay (they lose the link)."""
    access.require_write(actor, task.organization_id)
    Task.objects.filter(pk=task.pk).delete()


# --- Reminders -------------------------------------------------------------------------------


def reminder_source(task_id: int, due_at: datetime.datetime) -> str:
    return f"crm_task:{task_id}:{due_at.astimezone(datetime.UTC).isoformat()}"


def _subject_name(task: Task) -> str:
    for record, attribute in ((task.deal, "title"), (task.contact, "name"), (task.lead, "name")):
        if record is not None:
            return str(getattr(record, attribute))
    return ""


def send_due_reminders(*, now: datetime.datetime | None = None) -> int:
    """Notify the assignee of every open task that fell due and was not reminded; returns
    how many were notified.

    Each task is claimed with a conditional UPDATE (still open, not reminded, same due time)
    in its own transaction with its notification, so two overlapping sweeps never notify
    twice (the second one's UPDATE matches nothing) and a failed notification leaves the
    task to the next sweep. The notification's source also names the due time, so chat's
    unique (user, source) is a second guard, and a moved due time reminds again.
    """
    from chat.models import NotificationKind
    from chat.notifications import notification_create

    now = now or timezone.now()
    due = list(
        Task.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", "due_at")[:REMINDERS_PER_RUN]
    )
    sent = 0
    for task_id, due_at in due:
        with transaction.atomic():
            claimed = Task.objects.filter(
                pk=task_id, done_at__isnull=True, reminded_at__isnull=True, due_at=due_at
            ).update(reminded_at=now)
            if not claimed:
                continue
            task = Task.objects.select_related("assignee", "deal", "contact", "lead").get(
                pk=task_id
            )
            with translation.override(task.assignee.language):
                notification_create(
                    user_id=task.assignee_id,
                    kind=NotificationKind.CRM_TASK_DUE,
                    source=reminder_source(task.pk, task.due_at),
                    title=_("Task due: %(title)s") % {"title": task.title},
                    body=_subject_name(task),
                    url=TASKS_URL,
                    data={
                        "task_id": task.pk,
                        "deal_id": task.deal_id,
                        "contact_id": task.contact_id,
                        "lead_id": task.lead_id,
                    },
                    organization_id=task.organization_id,
                )
            sent += 1
    return sent
